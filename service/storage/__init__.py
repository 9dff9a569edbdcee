"""Where the records live: the database URL, recorders, the transcoder, batched reads, locks."""
