"""Worker pages served to phone browsers: report, follow-up, leave quickly."""
