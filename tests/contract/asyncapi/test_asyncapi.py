"""Committed AsyncAPI documents match the services' brokers, and every message is in one."""

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from etawatch.allinone.asyncapi import BROKERS, Document, document_path, documents, main
from etawatch.contracts.base import Message
from etawatch.contracts.messages import ALL_MESSAGES
from etawatch.contracts.schemas import render
from etawatch.contracts.topology import EXCHANGES


@pytest.fixture(scope="module")
def generated() -> dict[str, Document]:
    return asyncio.run(documents())


@pytest.mark.parametrize("service", sorted(BROKERS))
def test_committed_document_is_current(service: str, generated: dict[str, Document]) -> None:
    path = document_path(service)
    assert path.exists(), f"{path} missing: run `make asyncapi`"
    assert path.read_text(encoding="utf-8") == render(generated[service]), (
        f"{path} differs from the service's broker: run `make asyncapi` and commit the result"
    )


def _publications(document: Document) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Message type -> (exchange, routing key, payload schema) of every published message."""
    schemas = document["components"]["schemas"]
    found: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for name, channel in document["channels"].items():
        amqp = channel["bindings"]["amqp"]
        if amqp["is"] != "routingKey":
            continue
        (message,) = channel["messages"].values()
        message_name = message["$ref"].rsplit("/", 1)[1]
        payload_ref = document["components"]["messages"][message_name]["payload"]["$ref"]
        envelope = schemas[payload_ref.rsplit("/", 1)[1].replace("%5B", "[").replace("%5D", "]")]
        data = schemas[envelope["properties"]["data"]["$ref"].rsplit("/", 1)[1]]
        found[name] = (amqp["exchange"]["name"], channel["address"], data)
    return found


@pytest.mark.parametrize("model", ALL_MESSAGES, ids=lambda m: m.TYPE)
def test_every_message_is_published_in_a_document(
    model: type[Message], generated: dict[str, Document]
) -> None:
    committed = {
        service: json.loads(document_path(service).read_text(encoding="utf-8"))
        for service in BROKERS
        if document_path(service).exists()
    }
    for source in (generated, committed):
        where = [
            publication
            for document in source.values()
            for message_type, publication in _publications(document).items()
            if message_type == model.TYPE
        ]
        assert len(where) == 1, f"{model.TYPE} is published in {len(where)} documents"
        exchange, routing_key, data = where[0]
        assert exchange in EXCHANGES
        assert routing_key
        assert data["title"] == model.__name__
        assert set(data["properties"]) == set(model.model_fields)


def test_consumer_queues_are_documented(generated: dict[str, Document]) -> None:
    received = {
        channel["address"]
        for document in generated.values()
        for channel in document["channels"].values()
        if channel["bindings"]["amqp"]["is"] == "queue"
    }
    assert received == {
        "ledger.observations.p0",
        "ledger.observations.p1",
        "ledger.observations.p2",
        "ledger.observations.p3",
        "ledger.orders",
        "notifier.changes",
    }


def test_main_reports_a_stale_document_and_writes_it(tmp_path: Path) -> None:
    assert main(["--dir", str(tmp_path)]) == 1
    assert main(["--dir", str(tmp_path), "--write"]) == 0
    assert main(["--dir", str(tmp_path)]) == 0
    stale = document_path("ledger", tmp_path)
    stale.write_text(stale.read_text(encoding="utf-8").replace("ledger.orders", "orders"))
    assert main(["--dir", str(tmp_path)]) == 1
