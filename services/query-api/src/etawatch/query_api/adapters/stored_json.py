"""The ledger's stored events decoded with ``orjson``: the library's JSON form, read faster.

The library's ``JSONTranscoder`` decodes with the standard ``json`` module and a Python hook
called for every object: about two thirds of the library's whole reading and decoding of an
event, and the larger part of the rebuild's reading process. ``OrjsonTranscoder`` reads the same
bytes with ``orjson``, then turns the objects the library wrote for its registered types back
into those types, exactly as the hook does (innermost first; an object is one of them when it
has exactly the two keys ``_type_`` and ``_data_``). What ``orjson`` refuses and ``json``
accepts (``NaN``, lone surrogates), or would read otherwise (an integer beyond 64 bits, which it
makes a float), is decoded by the library's own decoder, and so is anything that fails on the
way, so that an error is the library's own. One difference remains, in bytes the library never
writes: where a key is repeated, ``orjson`` keeps the last value only, so a typed value it
replaced is not looked at (the library would turn it back first, or fail on it). Writing stays
the library's: the query API writes no events.
"""

from collections.abc import Callable
from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder, Transcoder, Transcoding

from etawatch.ledger.application.store import LedgerStore

_DICT, _LIST = dict, list
_CONTAINERS = (dict, list)
_DIGITS = bytes(ord("0") if chr(i).isdigit() and i < 128 else ord(".") for i in range(256))
_LONG_NUMBER = b"0" * 19
"""Digits enough for an integer beyond 64 bits, which ``orjson`` would read as a float (or
only a long text or fraction, which the library's decoder reads just as well); looked for in
the bytes with every digit made ``0`` (``bytes.translate``: a regular expression took eight
times as long, more than all the rest of the decoding)."""


class OrjsonTranscoder(JSONTranscoder):
    def __init__(self) -> None:
        super().__init__()
        self._decoders: dict[str, Callable[[Any], Any]] = {}

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        self._decoders[transcoding.name] = transcoding.decode

    def decode(self, data: bytes) -> Any:
        if _LONG_NUMBER in data.translate(_DIGITS):
            return super().decode(data)
        try:
            found = orjson.loads(data)
        except orjson.JSONDecodeError:
            return super().decode(data)
        try:
            if type(found) is _DICT:
                return self._event(found, data)
            if type(found) is _LIST:
                self._array(found)
        except Exception:
            return super().decode(data)
        return found

    def _event(self, event: dict[str, Any], data: bytes) -> Any:
        """An event's state: its typed values are most often its own fields (its moments and
        ids), so those are turned back first; only when that leaves one of the ``"_type_"``
        keys the bytes hold (or an escape that could spell one) is the whole state gone
        through. A ``"_type_"`` inside a text only costs that walk."""
        markers = data.count(b'"_type_"')
        if markers == 0 and b"\\u" not in data:
            return event
        if b"\\u" not in data and "_type_" not in event:
            done = 0
            decoders = self._decoders
            for key, value in event.items():
                if (
                    type(value) is _DICT
                    and len(value) == 2
                    and "_type_" in value
                    and "_data_" in value
                    and type(value["_data_"]) not in _CONTAINERS
                ):
                    found = decoders.get(value["_type_"])
                    event[key] = (
                        self._decode_obj(value) if found is None else found(value["_data_"])
                    )
                    done += 1
                    if done == markers:
                        return event
            event = orjson.loads(data)  # one more ``_type_`` somewhere: from the start
        return self._object(event)

    def _object(self, obj: dict[str, Any]) -> Any:
        for key, value in obj.items():
            kind = type(value)
            if kind is _DICT:
                obj[key] = self._object(value)
            elif kind is _LIST and value:
                self._array(value)
        if len(obj) == 2 and "_type_" in obj and "_data_" in obj:
            return self._decode_obj(obj)  # the library's: the same errors for unknown types
        return obj

    def _array(self, array: list[Any]) -> None:
        for i, value in enumerate(array):
            kind = type(value)
            if kind is _DICT:
                array[i] = self._object(value)
            elif kind is _LIST and value:
                self._array(value)


class LedgerReader(LedgerStore):
    """The ledger's store, its events decoded by ``OrjsonTranscoder`` (open it with
    ``open_read_only``)."""

    name = LedgerStore.name  # the library would name it after the class: its tables, its views'
    # tracking records and its settings' prefix are the ledger's

    def construct_transcoder(self) -> Transcoder:
        """``OrjsonTranscoder`` in place of the library's ``JSONTranscoder``; a transcoder
        chosen otherwise (``TRANSCODER_TOPIC``) as it is: it wrote the events."""
        chosen = super().construct_transcoder()
        if type(chosen) is not JSONTranscoder:
            return chosen
        transcoder = OrjsonTranscoder()
        self.register_transcodings(transcoder)
        return transcoder
