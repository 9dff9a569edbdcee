"""trainrec service layer: the eventsourcing application, its commands, queries and scopes."""
