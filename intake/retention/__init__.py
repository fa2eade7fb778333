"""Retention (DESIGN 4.4, issue 10 item 6): sealed numbers and old reports are deleted on
schedule; what the dashboards count is kept as content-free tallies."""
