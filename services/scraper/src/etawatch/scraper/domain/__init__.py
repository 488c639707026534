"""Pure rules of the scraper: profiles, tables, row reading and validation. No I/O imports."""
