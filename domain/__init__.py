"""trainrec domain: teachers' continuing-education records as event-sourced aggregates.

Nothing here knows HTTP or SQL. Commands are methods, events are past tense, and every
refusal is a `DomainError` with a stable `code`.
"""
