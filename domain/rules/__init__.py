"""The rules of docs/domain.md, one module per subject, each a function named for the rule it enforces."""
