"""The browser, HTTP, the data folder and metrics, each behind a small interface."""
