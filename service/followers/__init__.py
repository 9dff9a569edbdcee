"""Processes keeping the read model up with the log: a catch-up thread, a LISTEN follower, the
ProjectionRunner."""
