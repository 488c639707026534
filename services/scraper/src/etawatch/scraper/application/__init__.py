"""Use cases: one scrape run, the schedule that repeats it."""
