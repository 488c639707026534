"""Opaque cursors and JSON lists assembled from stored documents without decoding them."""

import json
from collections.abc import Iterable

from fastapi.responses import Response


def json_response(text: str | bytes) -> Response:
    return Response(content=text, media_type="application/json")


def page(docs: Iterable[str], **fields: object) -> Response:
    extra = "".join(f",{json.dumps(k)}:{json.dumps(v)}" for k, v in fields.items())
    return json_response('{"items":[' + ",".join(docs) + "]" + extra + "}")
