"""Reports written as Excel workbooks (compliance and roster), from the answers of the JSON reads."""
