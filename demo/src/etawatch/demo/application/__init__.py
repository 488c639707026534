"""Sessions, logins and what a page shows: the portal's use cases."""
