"""Portal credentials: from the environment or a mounted file, never from a profile or a log."""

from dataclasses import dataclass, field

from pydantic import SecretStr


@dataclass(frozen=True)
class Credentials:
    username: str
    password: SecretStr = field(repr=False)
