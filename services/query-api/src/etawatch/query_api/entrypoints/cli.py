"""The ``etawatch-query-api`` command."""

from etawatch.query_api.config import QueryApiSettings
from etawatch.runtime.cli import service_app

app = service_app("etawatch-query-api", __doc__, QueryApiSettings)
