"""The CloudEvents envelope every message travels in, and decoding with upcasting.

Messages travel in structured mode: the body is the whole envelope as JSON, ``data`` is the
message. ``type`` is ``<message type>.v<version>``; an older version is upcast to the current
model before validation, so old messages stay readable.
"""

import datetime as dt
import functools
import json
import uuid
from collections.abc import Callable
from typing import Any, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from etawatch.contracts.base import Message
from etawatch.contracts.messages import ALL_MESSAGES

M = TypeVar("M", bound=Message)

SCHEMA_BASE = "https://etawatch.dev/schemas"
REGISTRY: dict[str, type[Message]] = {model.TYPE: model for model in ALL_MESSAGES}

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
UPCASTERS: dict[tuple[str, int], Upcaster] = {}
"""``(type, version) -> function`` turning data of that version into data of the next one."""


def upcaster(message_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register how to turn ``from_version`` data of a message into ``from_version + 1`` data."""

    def register(fn: Upcaster) -> Upcaster:
        UPCASTERS[(message_type, from_version)] = fn
        return fn

    return register


class Envelope(BaseModel, Generic[M]):
    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: Literal["1.0"] = "1.0"
    id: str
    source: str
    type: str
    time: AwareDatetime
    subject: str | None = None
    dataschema: str
    datacontenttype: Literal["application/json"] = "application/json"
    correlation_id: str | None = None
    causation_id: str | None = None
    data: M


class EnvelopeError(ValueError):
    """A message that cannot be read: the reason says why, for the dead-letter queue."""


@functools.cache
def envelope_of(model: type[Message]) -> type[Envelope[Any]]:
    """``Envelope[model]``, built once: pydantic's own cache of parametrised classes is weak."""
    return Envelope[model]  # type: ignore[valid-type]


def dataschema_for(model: type[Message]) -> str:
    return f"{SCHEMA_BASE}/{model.TYPE}/v{model.VERSION}.json"


def wrap(
    message: M,
    *,
    id: uuid.UUID | str,
    source: str,
    subject: str | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    time: dt.datetime | None = None,
) -> Envelope[M]:
    """Put a message in its envelope. Pass a deterministic ``id`` where a fact can be sent twice."""
    model = type(message)
    return envelope_of(model)(
        id=str(id),
        source=source,
        type=model.ce_type(),
        time=time or dt.datetime.now(dt.UTC),
        subject=subject,
        dataschema=dataschema_for(model),
        correlation_id=correlation_id,
        causation_id=causation_id,
        data=message,
    )


def split_type(ce_type: str) -> tuple[str, int]:
    """``etawatch.order.placed.v2`` -> ``("etawatch.order.placed", 2)``."""
    name, _, version = ce_type.rpartition(".v")
    if not name or not version.isdigit():
        raise EnvelopeError(f"type {ce_type!r} has no version suffix like '.v1'")
    return name, int(version)


def upcast(message_type: str, version: int, data: dict[str, Any]) -> dict[str, Any]:
    model = REGISTRY[message_type]
    if version > model.VERSION:
        raise EnvelopeError(
            f"{message_type} v{version} is newer than this service understands (v{model.VERSION})"
        )
    while version < model.VERSION:
        step = UPCASTERS.get((message_type, version))
        if step is None:
            raise EnvelopeError(f"no upcaster from {message_type} v{version}")
        data = step(data)
        version += 1
    return data


def to_json(envelope: Envelope[Any]) -> bytes:
    return envelope.model_dump_json().encode()


def open_envelope(body: bytes | str | dict[str, Any]) -> Envelope[Message]:
    """Read an envelope of any known message type, upcasting old versions.

    Raises ``EnvelopeError`` with a reason a person can act on; never anything else.
    """
    try:
        raw = body if isinstance(body, dict) else json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EnvelopeError(f"body is not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise EnvelopeError("body is not a JSON object")
    ce_type = raw.get("type")
    if not isinstance(ce_type, str):
        raise EnvelopeError("envelope has no 'type'")
    message_type, version = split_type(ce_type)
    model = REGISTRY.get(message_type)
    if model is None:
        raise EnvelopeError(f"unknown message type {message_type!r}")
    data = raw.get("data")
    if not isinstance(data, dict):
        raise EnvelopeError("envelope has no 'data' object")
    current = dict(raw, data=upcast(message_type, version, data), type=model.ce_type())
    current["dataschema"] = dataschema_for(model)
    try:
        return envelope_of(model).model_validate(current)
    except ValidationError as exc:
        raise EnvelopeError(f"invalid {ce_type}: {_summary(exc)}") from exc


def open_as(body: bytes | str | dict[str, Any], model: type[M]) -> Envelope[M]:
    """Read an envelope that must hold a ``model``."""
    envelope = open_envelope(body)
    if not isinstance(envelope.data, model):
        raise EnvelopeError(f"expected {model.TYPE}, got {envelope.type}")
    return envelope  # type: ignore[return-value]


def _summary(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in error["loc"]) or "(root)"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)
