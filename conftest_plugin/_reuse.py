"""``kms_client``'s clients, kept from test to test: one unchanged client per (account, region,
environment), handed out again only while nothing a test could change about it has changed
(see the fixture's docstring in :mod:`conftest_plugin.plugin`)."""
from __future__ import annotations

import os
from typing import Any

MAX_CLIENTS = 8
_clients: dict[tuple, Lease] = {}  # key -> an unchanged client, least recently used first
_PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY")
_PROXY_VARIABLES = frozenset(_PROXIES + tuple(name.lower() for name in _PROXIES))
_PROXY_VARIABLES_BYTES = frozenset(name.encode() for name in _PROXY_VARIABLES)


def take(account: str, region: str) -> tuple[tuple, Any]:
    """(key, the kept client for ``account`` and ``region`` in this environment, or None)."""
    import boto3

    key = (account, region, _environment())
    kept = _clients.pop(key, None)
    session = boto3.DEFAULT_SESSION
    if kept is None or kept.session is not session or \
            kept.session_handlers is not _session_handlers(session):
        return key, None
    return key, kept.client


def give_back(key: tuple, lease: Lease) -> None:
    """Keep ``lease``'s client for the next test under ``key``, if the test left it unchanged."""
    if lease.unchanged():
        _clients[key] = lease  # the most recently used last
        while len(_clients) > MAX_CLIENTS:
            del _clients[next(iter(_clients))]


def _environment() -> tuple[tuple[Any, Any], ...]:
    """What of the environment boto3 may read when it makes a client: the ``AWS_*`` and proxy
    variables. (Read from ``os.environ``'s encoded data where CPython keeps it, without
    decoding every variable: twenty times faster.)"""
    data = getattr(os.environ, "_data", None)
    prefix: Any
    proxies: Any
    items: Any
    if isinstance(data, dict) and all(type(name) is bytes for name in data):
        prefix, proxies, items = b"AWS_", _PROXY_VARIABLES_BYTES, data.items()
    else:
        prefix, proxies, items = "AWS_", _PROXY_VARIABLES, os.environ.items()
    return tuple(sorted(item for item in items if item[0][:4] == prefix or item[0] in proxies))


def _handlers_of(events: Any) -> object | None:
    """An object that botocore replaces whenever an event handler is registered on or removed
    from the emitter ``events`` (a client's ``meta.events``, a session's ``events``): its
    lookup cache. None if this botocore has none (then nothing is reused)."""
    return getattr(getattr(events, "_emitter", events), "_lookup_cache", None)


def _session_handlers(session: Any) -> object | None:
    return _handlers_of(session.events) if session is not None else None


class Lease:
    """A client handed to one test, with what it looked like then (and boto3's default
    session, which made it)."""

    __slots__ = ("client", "session", "session_handlers", "handlers", "attributes", "config")

    def __init__(self, client: Any) -> None:
        import boto3

        self.client = client
        self.session = boto3.DEFAULT_SESSION
        self.session_handlers = _session_handlers(self.session)
        self.handlers = _handlers_of(client.meta.events)
        self.attributes = self._attributes()
        self.config = repr(vars(client.meta.config))

    def _attributes(self) -> list[dict[str, Any]]:
        client = self.client
        return [dict(vars(obj)) for obj in (client, client.meta, client._request_signer)]

    def unchanged(self) -> bool:
        """Whether the client is as it was handed out (and botocore lets us tell)."""
        if self.handlers is None or self.session_handlers is None or \
                _handlers_of(self.client.meta.events) is not self.handlers:
            return False
        for before, now in zip(self.attributes, self._attributes()):
            if before.keys() != now.keys() or any(now[k] is not v for k, v in before.items()):
                return False
        return repr(vars(self.client.meta.config)) == self.config
