"""The firm model: scenario config, actors, faults, truth."""
