"""The firm's actor families, one module each, as SimPy processes: `family(env, firm, ...)`."""
