"""The log's origin: the first line of its checkpoints and the name of the key that signs them."""

from __future__ import annotations

import os
import re
import socket

ORIGIN_ENV = "TRAINREC_LOG_ORIGIN"
_BAD = re.compile(r"[\s+\u2014]")


class OriginError(ValueError):
    """TRAINREC_LOG_ORIGIN is not a usable key name."""


def log_origin() -> str:
    """`TRAINREC_LOG_ORIGIN` (e.g. `trainrec.example-county.gov.cn/log`), else `trainrec.<host name>/log`.
    A C2SP key name: not empty, no spaces, no plus sign. Set it in production: a host name changes
    with the machine, and checkpoints signed under an old origin still verify (their key name and the
    published public key give the key hash), but outside witnesses pin the origin."""
    configured = os.environ.get(ORIGIN_ENV, "").strip()
    if configured:
        if _BAD.search(configured):
            msg = f"{ORIGIN_ENV} must contain no spaces, plus signs or em dashes: {configured!r}"
            raise OriginError(msg)
        return configured
    host = _BAD.sub("-", socket.gethostname().strip().lower()) or "localhost"
    return f"trainrec.{host}/log"
