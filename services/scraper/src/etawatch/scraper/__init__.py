"""etawatch scraper."""
