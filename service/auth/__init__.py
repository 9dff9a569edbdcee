"""Who may act: bearer tokens and the authorisation scopes the service enforces."""
