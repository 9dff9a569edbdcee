"""Read models built from the event log: transcripts now; rosters and compliance tables next."""
