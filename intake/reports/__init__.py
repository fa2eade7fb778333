"""Reports as they arrive from any channel: sealed content, coarse dates, the worker's thread."""
