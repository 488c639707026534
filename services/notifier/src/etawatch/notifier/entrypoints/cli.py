"""The ``etawatch-notifier`` command."""

from etawatch.notifier.config import NotifierSettings
from etawatch.runtime.cli import service_app

app = service_app("etawatch-notifier", __doc__, NotifierSettings)
