"""The ``etawatch-scraper`` command."""

from etawatch.scraper.config import ScraperSettings
from etawatch.runtime.cli import service_app

app = service_app("etawatch-scraper", __doc__, ScraperSettings)
