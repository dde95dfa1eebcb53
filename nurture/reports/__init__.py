"""Reports: read-only figures over the whole history (the overview, campaign results,
and later the funnel). Nothing here changes data."""
