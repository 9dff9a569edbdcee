"""`trainrec import`: spreadsheets read into rows, rows run through the same commands."""
