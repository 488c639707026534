"""The committed OpenAPI document is the one the app generates (run `etawatch-query-api openapi
--write` after changing the API)."""

import json
from pathlib import Path

from etawatch.query_api.entrypoints.api.openapi import openapi_document, openapi_text
from etawatch.query_api.entrypoints.cli import OPENAPI_PATH


def test_committed_openapi_is_current() -> None:
    assert OPENAPI_PATH.exists(), (
        f"{OPENAPI_PATH} missing: run `etawatch-query-api openapi --write`"
    )
    assert OPENAPI_PATH.read_text(encoding="utf-8") == openapi_text(), (
        f"{OPENAPI_PATH} differs from the app: run `etawatch-query-api openapi --write` and "
        "review the change (a change to a /v1 answer must stay backward compatible)"
    )


def test_every_v1_route_asks_for_a_key_and_documents_its_errors() -> None:
    document = openapi_document()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if not path.startswith("/v1"):
                assert "security" not in operation, (method, path)
                continue
            assert operation.get("security") == [{"HTTPBearer": []}], (method, path)
            assert {"401", "403", "422"} <= set(operation["responses"]), (method, path)


def test_the_document_is_json_a_tool_can_read() -> None:
    assert json.loads(Path(OPENAPI_PATH).read_text(encoding="utf-8"))["openapi"].startswith("3.")
