"""A real SMTP server on a free loopback port (aiosmtpd) that records what it accepts.

It can be told to answer 4xx a number of times, to refuse every message with 5xx, to refuse a
recipient, to require a login, to speak TLS (``tls="starttls"`` or ``"implicit"``, with a
certificate from a throwaway CA whose file is ``ca_file``), and to go down and come back on the
same port. It runs in its
own thread (aiosmtpd's ``Controller``), so tests wait for messages with ``wait_for``.

    with smtp_server() as smtp:
        ... send to smtp.url ...
        [message] = smtp.wait_for(1)
        assert message.parsed["Subject"] == "..."
"""

import email
import email.policy
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class ReceivedMessage:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    peer: str
    """The client's address and port: messages over one connection share it."""

    @property
    def parsed(self) -> EmailMessage:
        message = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message


@dataclass
class _Behaviour:
    temporary_failures: int = 0
    temporary_code: str = "451 4.3.0 Temporary local problem, try again later"
    permanent: str | None = None
    refused_recipients: set[str] = field(default_factory=set)
    record_data: bool = True


class _Handler:
    def __init__(self, server: "SmtpServer") -> None:
        self.server = server

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        with self.server.lock:
            if address.lower() in self.server.behaviour.refused_recipients:
                return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.server.lock:
            behaviour = self.server.behaviour
            self.server.attempts += 1
            if behaviour.temporary_failures > 0:
                behaviour.temporary_failures -= 1
                return behaviour.temporary_code
            if behaviour.permanent is not None:
                return behaviour.permanent
            peer = session.peer
            self.server.received.append(
                ReceivedMessage(
                    mail_from=envelope.mail_from,
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    data=envelope.content if behaviour.record_data else b"",
                    peer=f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer),
                )
            )
        return "250 2.0.0 Message accepted for delivery"


class SmtpServer:
    """Start with ``start()`` (or use ``smtp_server()``); the port stays across restarts."""

    def __init__(
        self,
        host: str = HOST,
        port: int | None = None,
        login: tuple[str, str] | None = None,
        tls: Literal["none", "starttls", "implicit"] = "none",
        ca_dir: str | None = None,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.login = login
        self.tls = tls
        self._server_context: ssl.SSLContext | None = None
        self.ca_file: str | None = None
        if tls != "none":
            ca = trustme.CA()
            self._server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ca.issue_cert(host).configure_cert(self._server_context)
            folder = ca_dir or tempfile.mkdtemp(prefix="etawatch-smtp-ca-")
            self.ca_file = str(Path(folder) / "ca.pem")
            ca.cert_pem.write_to_path(self.ca_file)
        self.lock = threading.Lock()
        self.behaviour = _Behaviour()
        self.received: list[ReceivedMessage] = []
        self.attempts = 0
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        scheme = "smtps" if self.tls == "implicit" else "smtp"
        if self.login:
            return f"{scheme}://{self.login[0]}:{self.login[1]}@{self.host}:{self.port}"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._controller is not None

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and self.login is not None
            and (data.login.decode(), data.password.decode()) == self.login
        )
        return AuthResult(success=ok, handled=False)

    def start(self) -> None:
        if self._controller is not None:
            return
        options: dict[str, Any] = {}
        if self.login:
            options |= {
                "authenticator": self._authenticate,
                "auth_required": True,
                # aiosmtpd cannot tell that an implicit-TLS transport is encrypted
                "auth_require_tls": self.tls == "starttls",
            }
        if self.tls == "starttls":
            options |= {"tls_context": self._server_context, "require_starttls": True}
        elif self.tls == "implicit":
            options |= {"ssl_context": self._server_context, "server_hostname": self.host}
        controller = Controller(
            _Handler(self), hostname=self.host, port=self.port, ready_timeout=10, **options
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Go down: new connections are refused until ``start()``."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    # --- what to answer --------------------------------------------------------------------

    def fail_next(self, times: int, answer: str | None = None) -> None:
        """Answer the next ``times`` messages with a temporary (4xx) error."""
        with self.lock:
            self.behaviour.temporary_failures = times
            if answer is not None:
                self.behaviour.temporary_code = answer

    def reject_all(self, answer: str = "554 5.7.1 Message rejected") -> None:
        """Answer every message with a permanent (5xx) error until ``accept_all()``."""
        with self.lock:
            self.behaviour.permanent = answer

    def accept_all(self) -> None:
        with self.lock:
            self.behaviour = _Behaviour()

    def refuse_recipient(self, address: str) -> None:
        """Refuse this recipient with ``550`` at RCPT TO."""
        with self.lock:
            self.behaviour.refused_recipients.add(address.lower())

    def keep_bodies(self, keep: bool) -> None:
        """Benchmarks may drop bodies to keep memory flat; the envelope is still recorded."""
        with self.lock:
            self.behaviour.record_data = keep

    # --- what arrived ----------------------------------------------------------------------

    @property
    def messages(self) -> list[ReceivedMessage]:
        with self.lock:
            return list(self.received)

    def clear(self) -> None:
        with self.lock:
            self.received.clear()
            self.attempts = 0

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedMessage]:
        """Wait until at least ``count`` messages arrived; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.messages
            if len(got) >= count:
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} messages within {timeout}s, got {len(got)}")
            time.sleep(0.01)


@contextmanager
def smtp_server(
    login: tuple[str, str] | None = None,
    tls: Literal["none", "starttls", "implicit"] = "none",
) -> Iterator[SmtpServer]:
    server = SmtpServer(login=login, tls=tls)
    server.start()
    try:
        yield server
    finally:
        server.stop()
