"""Grant tokens: the opaque strings CreateGrant returns, and the check every operation that takes
``GrantTokens`` applies to them (the dispatcher calls ``check`` before the handler).

A token names its grant (account, Region, grant id) and carries a MAC with a fixed mockkms key: a
token this mock issued passes every ``GrantTokens`` check, even after its grant is retired (AWS
tokens only bridge eventual consistency); anything else is ``InvalidGrantTokenException`` —
except in operations whose model does not declare that error (DescribeKey: tokens ignored). The
key is fixed, not secret, so tokens stay valid when the state is saved and loaded in another
process (``mockkms serve --state-dir``).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from . import _errors as E
from . import _model

_SECRET = b"mockkms grant token v1"
_TOKEN_VERSION = b"\x01"
_MAC_LEN = 16
_NONCE_LEN = 16


def issue(account: str, region: str, grant_id: str) -> str:
    """A new token for grant ``grant_id`` of the store (``account``, ``region``)."""
    body = _TOKEN_VERSION + os.urandom(_NONCE_LEN) + f"{account}:{region}:{grant_id}".encode()
    mac = hmac.new(_SECRET, body, hashlib.sha256).digest()[:_MAC_LEN]
    return base64.b64encode(body + mac).decode()


def read(token: str) -> tuple[str, str, str]:
    """(account, region, grant id) of a token this mock issued; else InvalidGrantTokenException."""
    try:
        data = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        data = b""
    body, mac = data[:-_MAC_LEN], data[-_MAC_LEN:]
    if len(body) > 1 + _NONCE_LEN and body[:1] == _TOKEN_VERSION and hmac.compare_digest(
            mac, hmac.new(_SECRET, body, hashlib.sha256).digest()[:_MAC_LEN]):
        parts = body[1 + _NONCE_LEN:].decode().split(":")
        if len(parts) == 3:
            return parts[0], parts[1], parts[2]
    raise E.InvalidGrantTokenException("The grant token is not valid.")


def check(operation: str, tokens: list) -> None:
    """Every token in a request's ``GrantTokens`` must be one this mock issued — in operations
    that declare InvalidGrantTokenException (DescribeKey does not: it accepts any token)."""
    if "InvalidGrantTokenException" not in _model.modeled_errors(operation):
        return
    for token in tokens:
        if token is not None:
            read(token)
