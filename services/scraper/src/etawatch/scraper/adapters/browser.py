"""Starting the installed headless Chromium through the installed ChromeDriver.

Selenium Manager is never asked to download anything: the driver's path is always given.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

HEADLESS_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-extensions",
    "--window-size=1280,1024",
)


@dataclass(frozen=True)
class BrowserConfig:
    chromium: Path = Path("/usr/bin/chromium")
    chromedriver: Path = Path("/usr/bin/chromedriver")
    page_load_timeout_seconds: float = 30.0
    extra_args: tuple[str, ...] = ()


BrowserFactory = Callable[[], WebDriver]


def chromium_factory(config: BrowserConfig) -> BrowserFactory:
    """A factory that starts a new headless Chromium each time it is called."""

    def start() -> WebDriver:
        options = webdriver.ChromeOptions()
        options.binary_location = str(config.chromium)
        for arg in (*HEADLESS_ARGS, *config.extra_args):
            options.add_argument(arg)
        options.page_load_strategy = "normal"
        driver = webdriver.Chrome(options=options, service=Service(str(config.chromedriver)))
        try:
            driver.set_page_load_timeout(config.page_load_timeout_seconds)
        except Exception:
            driver.quit()
            raise
        return driver

    return start
