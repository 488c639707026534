"""Helpers shared by the test suites: real infrastructure, one database and vhost per run."""
