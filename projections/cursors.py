"""The opaque cursors of paged lists: a page's last sort key, as base64url of JSON."""

from __future__ import annotations

import base64
import binascii

import orjson

Key = list[str]


def encode_cursor(key: Key) -> str:
    """The opaque cursor of a page's last row: its sort key, as base64url of JSON."""
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def decode_cursor(cursor: str, parts: int) -> Key:
    """The sort key a cursor names; ValueError if it is not one this list gave (`parts` strings)."""
    try:
        key = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError) as error:
        raise ValueError("not a cursor") from error
    if not isinstance(key, list) or len(key) != parts or not all(isinstance(part, str) for part in key):
        raise ValueError("not a cursor")
    return key
