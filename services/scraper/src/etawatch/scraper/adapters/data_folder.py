"""What the scraper keeps in its data folder between runs.

``state/<profile>.json``    the size of the last complete run (for the row-count check)
``sessions/<profile>.json`` the portal's session cookies, so a run need not log in every time
``artifacts/<run id>/``     screenshot and HTML of a failed run

Files are replaced atomically; the cookie file is readable by its owner only.
"""

import datetime as dt
import json
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

from etawatch.runtime.log import get_logger

log = get_logger(__name__)


def _write_atomically(path: Path, data: Any, *, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        if private:
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, ensure_ascii=False, indent=1)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning(
            "ignoring an unreadable file in the data folder", path=str(path), error=str(exc)
        )
        return None


class FileRunState:
    """``RunState`` in ``<data>/state/<profile>.json``."""

    def __init__(self, data_dir: Path) -> None:
        self.folder = data_dir / "state"

    def last_complete_items(self, profile: str) -> int | None:
        data = _read(self.folder / f"{profile}.json")
        items = data.get("last_complete_items") if isinstance(data, dict) else None
        return items if isinstance(items, int) and items >= 0 else None

    def record_complete(self, profile: str, items: int, run_id: uuid.UUID, at: dt.datetime) -> None:
        _write_atomically(
            self.folder / f"{profile}.json",
            {"last_complete_items": items, "run_id": str(run_id), "at": at.isoformat()},
        )


class CookieJar:
    """The portal's cookies of one profile in ``<data>/sessions/<profile>.json`` (mode 0600)."""

    def __init__(self, data_dir: Path, profile: str) -> None:
        self.path = data_dir / "sessions" / f"{profile}.json"

    def load(self, base_url: str) -> list[dict[str, Any]]:
        data = _read(self.path)
        if not isinstance(data, dict) or data.get("base_url") != base_url:
            return []
        cookies = data.get("cookies")
        return [c for c in cookies if isinstance(c, dict)] if isinstance(cookies, list) else []

    def save(self, base_url: str, cookies: list[dict[str, Any]]) -> None:
        _write_atomically(self.path, {"base_url": base_url, "cookies": cookies}, private=True)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
