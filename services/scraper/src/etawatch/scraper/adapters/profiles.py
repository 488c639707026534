"""Finding and loading profiles: a path to a TOML file, or the name of a shipped profile.

A profile may start from another with ``extends = "name"`` (a shipped name, or a path relative
to the profile): its tables are merged key by key, the extending profile winning.
"""

from pathlib import Path
from typing import Any

from etawatch.scraper.domain.profile import (
    Profile,
    ProfileError,
    merge,
    parse_toml,
    profile_from_data,
)

_HERE = Path(__file__).resolve()
SHIPPED_FOLDERS = (
    _HERE.parents[1] / "profiles",  # inside an installed wheel
    _HERE.parents[4] / "profiles",  # services/scraper/profiles in the repository
)
MAX_EXTENDS = 5


def shipped_profiles() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in SHIPPED_FOLDERS:
        for path in sorted(folder.glob("*.toml")):
            found.setdefault(path.stem, path)
    return found


def _locate(name_or_path: str | Path, relative_to: Path | None = None) -> Path:
    path = Path(name_or_path)
    if path.suffix == ".toml":
        return relative_to.parent / path if relative_to and not path.is_absolute() else path
    shipped = shipped_profiles()
    if str(name_or_path) not in shipped:
        raise ProfileError(
            f"no profile {str(name_or_path)!r}: give a path to a .toml file or one of "
            f"{', '.join(shipped) or '(none shipped)'}"
        )
    return shipped[str(name_or_path)]


def _data(path: Path, depth: int = 0) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read the profile: {exc.strerror or exc}") from exc
    data = parse_toml(text, str(path))
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ProfileError(f"{path}: extends: must be the name or path of another profile")
    if depth >= MAX_EXTENDS:
        raise ProfileError(f"{path}: extends: more than {MAX_EXTENDS} levels (a loop?)")
    return merge(_data(_locate(parent, path), depth + 1), data)


def load_profile(name_or_path: str | Path) -> Profile:
    """Load ``simulated-server`` (a shipped profile) or ``/etc/etawatch/acme.toml``."""
    path = _locate(name_or_path)
    return profile_from_data(_data(path), str(path))
