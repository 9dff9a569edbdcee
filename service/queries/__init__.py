"""The reads of the application: replays of the log, reports from the read model, the audit feed."""
