"""The `trainrec` command."""
