"""Fault switches: the ways a real supplier portal misbehaves, turned on and off at run time."""

import threading
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from etawatch.demo.domain.columns import HEADERS, layout


class FaultSwitches(BaseModel):
    """The switches in force. All off by default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    slow_seconds: float = Field(
        0.0, ge=0, le=120, description="Delay every availability page, JSON and export by this."
    )
    error_pages: list[int] = Field(
        default_factory=list, description="These table pages answer HTTP 500."
    )
    error_mode: Literal["once", "always"] = Field(
        "once", description="`once`: only the first request of each listed page since set."
    )
    expire_session_after_pages: int | None = Field(
        None, ge=1, description="Invalidate a session after this many table pages served to it."
    )
    truncate_to: int | None = Field(
        None, ge=0, description="Show only the first K items (table, total and export)."
    )
    rename_column: dict[str, str] = Field(
        default_factory=dict, description="Header text -> the text shown instead."
    )
    reorder_columns: list[str] | None = Field(
        None, description="A new display order of the header texts (unlisted ones follow)."
    )
    hide_columns: list[str] = Field(
        default_factory=list, description="Header texts of columns that are not shown at all."
    )
    login_form_changed: bool = Field(
        False, description="Login form fields become `login`/`heslo`, its id `signin-form`."
    )
    maintenance: bool = Field(False, description="A maintenance page instead of the table.")
    refuse_login: bool = Field(
        False, description="Refuse correct credentials (does not count toward the lock)."
    )
    unknown_availability: dict[str, str] | None = Field(
        None, description="SKU -> availability word shown instead of the real one."
    )
    garbled_eta: dict[str, str] | None = Field(
        None, description="SKU -> ETA text shown instead of the real one."
    )

    @model_validator(mode="after")
    def _columns_exist(self) -> Self:
        unknown = sorted(set(self.rename_column) - set(HEADERS.values()))
        if unknown:
            raise ValueError(f"cannot rename unknown columns {unknown}")
        layout(self.rename_column, self.reorder_columns, self.hide_columns)
        return self


class Faults:
    """The switches in force plus what they remember (pages failed once, pages per session).

    Thread-safe: the web server reads while a test flips switches.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._switches = FaultSwitches()
        self._failed_once: set[int] = set()
        self._pages_served: dict[str, int] = {}

    @property
    def current(self) -> FaultSwitches:
        return self._switches

    def set(self, **switches: Any) -> FaultSwitches:
        """Turn switches on (or off); the others keep their state. Invalid values raise
        ``pydantic.ValidationError`` and change nothing."""
        with self._lock:
            merged = FaultSwitches.model_validate({**self._switches.model_dump(), **switches})
            self._switches = merged
            if {"error_pages", "error_mode"} & switches.keys():
                self._failed_once.clear()
            if "expire_session_after_pages" in switches:
                self._pages_served.clear()
            return merged

    def clear(self) -> FaultSwitches:
        """Every switch off."""
        with self._lock:
            self._switches = FaultSwitches()
            self._failed_once.clear()
            self._pages_served.clear()
            return self._switches

    def should_fail(self, page: int) -> bool:
        """Whether this request for table page ``page`` answers HTTP 500."""
        with self._lock:
            switches = self._switches
            if page not in switches.error_pages:
                return False
            if switches.error_mode == "always":
                return True
            if page in self._failed_once:
                return False
            self._failed_once.add(page)
            return True

    def page_served(self, session_id: str) -> bool:
        """Count a table page served to a session; ``True`` when the session must now expire."""
        with self._lock:
            limit = self._switches.expire_session_after_pages
            if limit is None:
                return False
            served = self._pages_served.get(session_id, 0) + 1
            self._pages_served[session_id] = served
            return served >= limit
