"""Messages written as ``.eml`` files instead of sent: the embedded mode, or when told.

Each file is named after its notification id and written atomically (a temporary file renamed
into place), so a file in the outbox is always complete and a retry overwrites the same file.
"""

import os
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from etawatch.notifier.application.ports import DeliveryError, MailSession

_MESSAGE_ID = re.compile(rb"^Message-ID:\s*<([^>@\s]+)@", re.IGNORECASE | re.MULTILINE)


class OutboxSession:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send(
        self,
        raw: bytes,
        sender: str,  # noqa: ARG002 - the file is the message; its headers name both
        recipients: Sequence[str],  # noqa: ARG002
    ) -> None:
        match = _MESSAGE_ID.search(raw)
        if match is None:
            raise DeliveryError("message has no Message-ID to name its file", permanent=True)
        name = match.group(1).decode("ascii", "replace")
        target = self.folder / f"{name}.eml"
        tmp = self.folder / f".{name}.eml.tmp"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tmp.open("wb") as out:
                out.write(raw)
                out.flush()
                os.fsync(out.fileno())
            tmp.replace(target)
        except OSError as exc:
            raise DeliveryError(f"cannot write {target}: {exc}", permanent=False) from exc


class OutboxTransport:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @asynccontextmanager
    async def session(self) -> AsyncIterator[MailSession]:
        yield OutboxSession(self.folder)
