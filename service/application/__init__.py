"""The application's core: its base class, units of work and batches, group commit, shared values."""
