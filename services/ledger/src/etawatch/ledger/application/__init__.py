"""Use cases of the ledger: the event-sourced application and its message handlers."""
