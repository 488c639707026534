"""What the demo has done so far, kept in the data folder so that a second run resumes."""

import datetime as dt
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict


class DemoState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: int
    seed: int
    day: int = 0
    """The supplier scenario's day (the portal is advanced to it again on resume)."""
    last_complete_scrape: dt.date | None = None
    """Scenario date of the last complete scrape: changes after it are still to be seen."""
    cycles: int = 0
    api_key: str | None = None

    @classmethod
    def load(cls, path: Path, *, items: int, seed: int) -> "DemoState":
        if not path.exists():
            return cls(items=items, seed=seed)
        state = cls.model_validate(json.loads(path.read_text(encoding="utf-8")))
        if (state.items, state.seed) != (items, seed):
            raise ValueError(
                f"{path.parent} holds a demo with --items {state.items} --seed {state.seed}; "
                "use the same values or another --data-dir"
            )
        return state

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.model_dump_json(indent=2), encoding="utf-8")
        tmp.chmod(0o600)  # holds the demo API key
        tmp.replace(path)
