"""Dashboards for desks and buyers: aggregate counts with small counts suppressed below k,
drawn as server-side SVG charts and exported as CSV."""
