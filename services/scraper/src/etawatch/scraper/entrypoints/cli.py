"""The ``etawatch-scraper`` command."""

from etawatch.runtime.cli import service_app
from etawatch.scraper.config import ScraperSettings

app = service_app("etawatch-scraper", __doc__, ScraperSettings)
