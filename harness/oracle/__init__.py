"""The oracle: invariants over truth and the four systems' end state."""
