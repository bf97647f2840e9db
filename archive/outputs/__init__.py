"""What the archive gives back: item JSON, the report, credit exports and verify."""
