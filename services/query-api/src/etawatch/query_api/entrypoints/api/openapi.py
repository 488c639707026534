"""The OpenAPI document, generated without a database: committed and checked for drift."""

import json
from typing import Any, cast

from fastapi import FastAPI

from etawatch.query_api.entrypoints.api.app import create_app


def openapi_document() -> dict[str, Any]:
    app: FastAPI = create_app(cast(Any, _Unwired()), run_projector=False)
    return app.openapi()


def openapi_text() -> str:
    return json.dumps(openapi_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class _Unwired:
    """Stands in for ``QueryApi``: the document needs the routes, not the adapters."""

    class settings:  # noqa: N801 - mirrors the attribute
        project_in_background = False
