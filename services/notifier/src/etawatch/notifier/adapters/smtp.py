"""Sending over SMTP with aiosmtplib: TLS or STARTTLS, authentication, one connection per batch.

Each message is tried a few times with exponential backoff (tenacity) when the server answers
4xx or the connection breaks; the connection is reopened as needed. A 5xx answer, or a recipient
the server refuses with 5xx, is permanent and never retried.
"""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import aiosmtplib
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from etawatch.contracts.messages import NotificationFailureReason
from etawatch.notifier.application.ports import DeliveryError, MailSession
from etawatch.runtime.log import get_logger

log = get_logger(__name__)

PERMANENT = 500


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """Where and how to connect. ``smtps://`` is TLS from the start; ``smtp://`` upgrades with
    STARTTLS when the server offers it, or always when ``require_starttls``."""

    hostname: str
    port: int
    username: str | None = None
    password: str | None = None
    implicit_tls: bool = False
    require_starttls: bool = False
    validate_certs: bool = True
    ca_file: str | None = None
    timeout: float = 30.0
    attempts: int = 3
    wait_seconds: float = 1.0
    wait_max_seconds: float = 30.0

    @classmethod
    def from_url(cls, url: str, **options: object) -> "SmtpConfig":
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP URL must look like smtp://[user:password@]host[:port]")
        implicit = parts.scheme == "smtps"
        return cls(
            hostname=parts.hostname,
            port=parts.port or (465 if implicit else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=implicit,
            **options,  # type: ignore[arg-type]
        )


def classify(exc: Exception) -> DeliveryError:
    """Turn what aiosmtplib raised into a temporary or permanent ``DeliveryError``."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [refused.code for refused in exc.recipients]
        detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        if codes and all(code >= PERMANENT for code in codes):
            return DeliveryError(
                f"recipient refused: {detail}",
                permanent=True,
                reason=NotificationFailureReason.INVALID_ADDRESS,
            )
        return DeliveryError(f"recipient deferred: {detail}", permanent=False)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError | aiosmtplib.SMTPConnectResponseError):
        # The server or our credentials are wrong: no message is to blame; keep them queued.
        return DeliveryError(f"{exc.code} {exc.message}", permanent=False, connection_lost=True)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        permanent = exc.code >= PERMANENT
        return DeliveryError(f"{exc.code} {exc.message}", permanent=permanent)
    return DeliveryError(
        f"cannot reach the mail server: {exc!r}", permanent=False, connection_lost=True
    )


def _temporary(exc: BaseException) -> bool:
    return isinstance(exc, DeliveryError) and not exc.permanent


class SmtpSession:
    """One open connection, reused for every message of a batch and reopened when it broke."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._client: aiosmtplib.SMTP | None = None
        self.connections_opened = 0

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        c = self.config
        client = aiosmtplib.SMTP(
            hostname=c.hostname,
            port=c.port,
            username=c.username,
            password=c.password,
            use_tls=c.implicit_tls,
            start_tls=None if not c.require_starttls else True,
            validate_certs=c.validate_certs,
            cert_bundle=c.ca_file,
            timeout=c.timeout,
        )
        await client.connect()
        self.connections_opened += 1
        self._client = client
        return client

    async def _send_once(self, raw: bytes, sender: str, recipients: Sequence[str]) -> None:
        try:
            client = await self._connected()
            await client.sendmail(sender, recipients, raw)
        except (aiosmtplib.SMTPException, OSError) as exc:
            error = classify(exc)
            if error.connection_lost:
                await self.close()
            raise error from exc

    async def send(self, raw: bytes, sender: str, recipients: Sequence[str]) -> None:
        c = self.config
        retrying = AsyncRetrying(
            retry=retry_if_exception(_temporary),
            stop=stop_after_attempt(c.attempts),
            wait=wait_exponential(multiplier=c.wait_seconds, max=c.wait_max_seconds),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    log.info("retrying a message", attempt=attempt.retry_state.attempt_number)
                await self._send_once(raw, sender, recipients)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()


class SmtpTransport:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    @asynccontextmanager
    async def session(self) -> AsyncIterator[MailSession]:
        session = SmtpSession(self.config)
        try:
            yield session
        finally:
            await session.close()
