"""Settings of the simulated supplier portal (``ETAWATCH_PORTAL_*``)."""

import datetime as dt
from enum import StrEnum

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from etawatch.runtime.settings import ServiceSettings

DEFAULT_START = dt.date(2026, 12, 1)


class RenderMode(StrEnum):
    SERVER = "server"
    """The table is in the HTML the server sends."""
    SCRIPT = "script"
    """The HTML has an empty table that a script fills from a JSON endpoint after load."""


class PortalConfig(ServiceSettings):
    """What the simulated portal serves, to whom, and from which seed."""

    model_config = SettingsConfigDict(env_prefix="ETAWATCH_PORTAL_", extra="ignore")

    items: int = Field(500, ge=0, le=1_000_000, description="Items in the catalogue at day 0.")
    seed: int = Field(7, description="Seed of the catalogue and of every scenario step.")
    page_size: int = Field(50, ge=1, le=10_000, description="Rows per availability page.")
    mode: RenderMode = Field(
        RenderMode.SERVER, description="`server`: rows in the HTML; `script`: rows from JSON."
    )
    username: str = Field("shop", description="The shop's login name at the portal.")
    password: SecretStr = Field(
        SecretStr("portal-secret"), description="The shop's password at the portal."
    )
    admin_token: SecretStr = Field(
        SecretStr("admin-secret"), description="Bearer token of the /admin endpoints."
    )
    session_idle_seconds: float = Field(
        900, gt=0, description="A session idle for longer than this has expired."
    )
    lockout_attempts: int = Field(
        5, ge=1, description="Wrong logins in a row that lock the account."
    )
    lockout_seconds: float = Field(300, gt=0, description="How long a locked account stays locked.")
    supplier_name: str = Field("Figurky Praha s.r.o.", description="Shown in every page title.")
    start_date: dt.date = Field(DEFAULT_START, description="The scenario's day 0.")
    host: str = Field("127.0.0.1", description="Address the portal listens on.")
    port: int = Field(0, ge=0, le=65535, description="Port to listen on; 0 picks a free one.")
    access_log: bool = Field(False, description="Log every HTTP request (uvicorn access log).")
