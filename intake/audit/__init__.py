"""The append-only, hash-chained audit log of every access to sealed content."""
