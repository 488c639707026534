"""Opaque cursors and JSON lists assembled from stored documents without decoding them."""

import base64
import binascii
import json
from collections.abc import Iterable

from fastapi import HTTPException, status
from fastapi.responses import Response


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "cursor is not one this API gave out"
        ) from exc


def json_response(text: str) -> Response:
    return Response(content=text, media_type="application/json")


def page(docs: Iterable[str], **fields: object) -> Response:
    extra = "".join(f",{json.dumps(k)}:{json.dumps(v)}" for k, v in fields.items())
    return json_response('{"items":[' + ",".join(docs) + "]" + extra + "}")
