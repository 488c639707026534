"""A portal profile: everything the robot needs to know about one supplier's portal.

A new supplier is a new TOML file, not new code. A profile says where the login form is, how to
recognise the login page, the table page and the maintenance page, how to reach every row (table
pages with a next link, a table filled in by JavaScript, or a CSV or XLSX export), which column
holds what by its header TEXT (never by position), how the supplier words availability, and any
date formats of its own. Credentials are never part of a profile: they come from the environment
or a mounted file (``ScraperSettings``); a profile that names one is refused.
"""

import re
import tomllib
import unicodedata
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from etawatch.contracts.availability import Availability
from etawatch.contracts.messages import Supplier

FORBIDDEN_KEYS = frozenset(
    {"password", "passwd", "username", "user", "login_name", "secret", "token", "api_key"}
)
"""Keys that would hold credentials: they belong in the environment or a mounted file."""


class ProfileError(ValueError):
    """A profile that cannot be used, with the file and the field at fault."""


class Mode(StrEnum):
    PAGES = "pages"
    """Server-rendered table pages, followed by their next link."""
    SCRIPT = "script"
    """The same pages, but the rows are filled in by JavaScript after the page loaded."""
    EXPORT = "export"
    """Log in with the browser, then download the portal's CSV or XLSX export with its cookies."""


class ExportFormat(StrEnum):
    CSV = "csv"
    """Delimited text: the first non-empty line is the header."""
    XLSX = "xlsx"
    """An Excel workbook: the header is the first row (of the first rows) holding header texts."""


def normalise_text(text: str) -> str:
    """Header texts and supplier words compared without case, accents' encoding or extra spaces."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip().casefold()


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


Selector = Annotated[str, Field(min_length=1, description="A CSS selector.")]


class PortalSection(_Section):
    base_url: str = Field(
        pattern=r"^https?://", description="Overridden by ETAWATCH_PORTAL_URL when set."
    )
    mode: Mode


class LoginSection(_Section):
    path: str = Field(default="/login", description="Where the login page is.")
    url_pattern: str = Field(
        default="^/login", description="Regex on the path: a page at such an address is the login."
    )
    title_contains: str = Field(default="", description="Text of the login page's title.")
    form: Selector
    username_field: Selector
    password_field: Selector
    submit: Selector
    error: Selector = Field(description="The message shown when the login was refused.")
    locked_phrases: tuple[str, ...] = Field(
        default=(), description="Words of the error that mean the account is locked."
    )

    @field_validator("url_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from exc
        return value


class PagesSection(_Section):
    maintenance: Selector | None = Field(
        default=None, description="Present only on the portal's maintenance page."
    )


class TableSection(_Section):
    start_path: str = Field(description="The first table page.")
    table: Selector
    ready: Selector = Field(description="Present once the table's rows are all there.")
    failed: Selector | None = Field(
        default=None, description="Present when a script-filled table could not load its data."
    )
    header_cells: Selector = "thead th"
    rows: Selector = "tbody tr"
    cells: Selector = "td"
    next_link: Selector | None = Field(default=None, description="The link to the next page.")
    total: Selector | None = Field(
        default=None, description="The portal's own count of items, checked against the rows."
    )


class ExportSection(_Section):
    path: str
    format: ExportFormat = ExportFormat.CSV
    delimiter: str = Field(default=";", min_length=1, max_length=1, description="CSV only.")
    encoding: str = Field(default="utf-8-sig", description="CSV only.")
    sheet: str | None = Field(
        default=None, min_length=1, description="XLSX only: the sheet's name; else the first one."
    )


class ColumnsSection(_Section):
    """Header texts (one, or several alternatives) of the columns; every one listed must exist."""

    sku: tuple[str, ...]
    name: tuple[str, ...]
    availability: tuple[str, ...]
    eta: tuple[str, ...]
    manufacturer: tuple[str, ...] | None = None
    quantity_allocated: tuple[str, ...] | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("*")
    @classmethod
    def _not_blank(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and (not value or any(not normalise_text(v) for v in value)):
            raise ValueError("a header text must not be empty")
        return value

    def expected(self) -> dict[str, tuple[str, ...]]:
        """Field name -> header texts, for every column this profile expects."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class EtaFormat(_Section):
    format: str = Field(description="A strptime format, tried before the built-in readings.")
    precision: Literal["day", "month", "year"] = "day"


class EtaSection(_Section):
    extra_formats: tuple[EtaFormat, ...] = ()


class ValidationSection(_Section):
    max_drop_share: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="A table this much shorter than the last complete run fails as truncated.",
    )


class PolitenessSection(_Section):
    min_interval_seconds: float = Field(
        default=0.5, ge=0, description="At least this long between two requests to the portal."
    )


class RetrySection(_Section):
    attempts: int = Field(default=3, ge=1, le=10)
    initial_backoff_seconds: float = Field(default=0.5, ge=0)
    max_backoff_seconds: float = Field(default=10.0, ge=0)
    jitter_seconds: float = Field(default=0.5, ge=0)


class TimeoutSection(_Section):
    page_seconds: float = Field(default=20.0, gt=0, description="Waiting for one page.")
    run_seconds: float = Field(default=600.0, gt=0, description="Hard limit of one run.")


class SessionSection(_Section):
    max_logins: int = Field(
        default=3, ge=1, le=4, description="Logins per run (first one and re-logins); never 5."
    )


class Profile(_Section):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    supplier: Supplier
    description: str = ""
    portal: PortalSection
    login: LoginSection
    pages: PagesSection = PagesSection()
    table: TableSection = Field(
        description="The table page; in export mode it is how the page after login is recognised."
    )
    export: ExportSection | None = None
    columns: ColumnsSection
    availability: dict[str, Availability] = Field(
        description="The supplier's words -> availability; any other word is 'unknown'."
    )
    eta: EtaSection = EtaSection()
    validation: ValidationSection = ValidationSection()
    politeness: PolitenessSection = PolitenessSection()
    retries: RetrySection = RetrySection()
    timeouts: TimeoutSection = TimeoutSection()
    session: SessionSection = SessionSection()

    @field_validator("availability")
    @classmethod
    def _normalised_words(cls, value: dict[str, Availability]) -> dict[str, Availability]:
        return {normalise_text(word): state for word, state in value.items()}

    @model_validator(mode="after")
    def _sections_for_mode(self) -> Self:
        if self.portal.mode is Mode.EXPORT and self.export is None:
            raise ValueError("mode 'export' needs an [export] section")
        return self

    def availability_of(self, word: str) -> Availability:
        """The state a supplier's word stands for; an unknown word is ``UNKNOWN``."""
        return self.availability.get(normalise_text(word), Availability.UNKNOWN)


def _credential_keys(data: Any, path: str = "") -> list[str]:
    found: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            if str(key).lower() in FORBIDDEN_KEYS:
                found.append(where)
            found.extend(_credential_keys(value, where))
    return found


def parse_toml(text: str, source: str = "<profile>") -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{source}: not valid TOML: {exc}") from exc


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` on top of ``base``, table by table (for ``extends``)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def profile_from_data(data: dict[str, Any], source: str = "<profile>") -> Profile:
    """Validate a profile's data; ``ProfileError`` says which file and field are wrong."""
    credentials = _credential_keys(data)
    if credentials:
        raise ProfileError(
            f"{source}: {', '.join(credentials)}: credentials never go in a profile; set "
            "ETAWATCH_PORTAL_USERNAME and ETAWATCH_PORTAL_PASSWORD (or ..._FILE) instead"
        )
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
            for e in exc.errors(include_url=False, include_input=False)
        )
        raise ProfileError(f"{source}: {problems}") from exc


def parse_profile(text: str, source: str = "<profile>") -> Profile:
    """Read a profile from TOML text (without ``extends``)."""
    return profile_from_data(parse_toml(text, source), source)
