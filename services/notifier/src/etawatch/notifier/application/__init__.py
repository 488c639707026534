"""Use cases: store a change, flush what is due, send, record, publish."""
