"""Reading the head of an HTTP/1.1 request for ``mockkms serve`` (``connection._Handler``): the
request line and the header fields, parsed by ``parse_request`` without the ``email`` package
that ``http.server`` uses (which cost more than all the rest of a request), into
:class:`_Headers`; and the ``Date`` of a response, formatted once a second.

What is refused, in AWS's error shape (``_Handler.send_error``): a request line of other than
three words or with a bad version (400; HTTP/2 and later: 505), a head (request line and header
fields) over ``MAX_HEAD`` bytes or more than 100 fields (431: a head is read into memory whole,
so its size is what bounds a connection's memory before its body), a field without a colon or
with anything but a token for its name (400). Obsolete continuation lines are joined to the field
they continue.
"""
from __future__ import annotations

import email.utils
import re
import time
from typing import Any

MAX_HEAD = 64 << 10     # bytes of a request's head: request line and header fields together
_MAX_HEADERS = 100      # header fields per request (as http.client allows)
HEAD_END = re.compile(rb"\n\r?\n")   # the empty line after the header fields
# a plain header line: a token, a colon, the value (surrounding blanks are not part of it)
_FIELD = re.compile(r"^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([^\r\n]*)\r?\n", re.MULTILINE)
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")   # a field name
_DATE: dict[int, str] = {}  # the current second -> its Date header value (one entry)


def http_date() -> str:
    """Now, as a ``Date`` header says it."""
    now = int(time.time())
    text = _DATE.get(now)
    if text is None:
        text = email.utils.formatdate(now, usegmt=True)
        _DATE.clear()
        _DATE[now] = text
    return text


class _Headers:
    """A request's header fields: ``get`` (case-insensitive, the first of repeated fields)
    and ``items`` (all of them, in order)."""

    __slots__ = ("_items", "_first")

    def __init__(self, items: list[tuple[str, str]]):
        self._items = items
        self._first = {name.lower(): value for name, value in reversed(items)}

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._first.get(name.lower(), default)

    def items(self) -> list[tuple[str, str]]:
        return self._items


def parse_request(handler: Any) -> bool:
    """Parse ``handler``'s request (a ``http.server.BaseHTTPRequestHandler`` whose ``rfile``
    has ``read_head``: ``connection._Connection``): the request line (``raw_requestline``)
    and the header fields into ``handler.headers``; answer a malformed request with an error
    (False). HTTP/1.1 keeps the connection alive unless ``Connection: close``; HTTP/1.0 closes
    it unless ``Connection: keep-alive``; ``Expect: 100-continue`` is noted for the handler
    (``handle_expect_100``)."""
    handler.command = None
    handler.close_connection = True
    line = str(handler.raw_requestline, "iso-8859-1").rstrip("\r\n")
    handler.requestline = line
    words = line.split()
    if len(words) != 3:
        handler.send_error(400, "Bad request syntax: not <method> <target> <version>")
        return False
    command, path, version = words
    try:
        if not version.startswith("HTTP/"):
            raise ValueError(version)
        major, minor = version[5:].split(".")
        if not (major.isdigit() and minor.isdigit() and len(major) < 10 and
                len(minor) < 10):
            raise ValueError(version)
        number = (int(major), int(minor))
    except ValueError:
        handler.send_error(400, "Bad request version")
        return False
    if number >= (2, 0):
        handler.send_error(505, f"Invalid HTTP version ({version})")
        return False
    handler.command, handler.request_version = command, version
    handler.path = "/" + path.lstrip("/") if path.startswith("//") else path
    head = handler.rfile.read_head(MAX_HEAD - len(handler.raw_requestline))
    if head is None:
        handler.send_error(431, f"The request's head (request line and header fields) exceeds "
                           f"{MAX_HEAD} bytes.")
        return False
    text = str(head, "iso-8859-1")
    items = [(name, value.rstrip(" \t")) for name, value in _FIELD.findall(text)]
    if len(items) != text.count("\n") - 1 or len(items) > _MAX_HEADERS:
        parsed = _fields(handler, head)
        if parsed is None:
            return False
        items = parsed
    handler.headers = _Headers(items)
    connection = (handler.headers.get("Connection") or "").lower()
    if connection == "close":
        handler.close_connection = True
    elif number >= (1, 1) or connection == "keep-alive":
        handler.close_connection = False
    if (handler.headers.get("Expect") or "").lower() == "100-continue" and number >= (1, 1):
        return handler.handle_expect_100()
    return True

def _fields(handler: Any, head: bytes) -> list[tuple[str, str]] | None:
    """The header fields of ``head`` line by line (continuation lines, refusals); None
    once the request was answered with an error."""
    items: list[tuple[str, str]] = []
    for raw in head.split(b"\n"):
        text = str(raw, "iso-8859-1").rstrip("\r")
        if not text:
            continue  # the empty line at the end
        if text[:1] in (" ", "\t") and items:  # an obsolete continuation line
            name, value = items[-1]
            items[-1] = (name, f"{value} {text.strip()}")
            continue
        name, colon, value = text.partition(":")
        if not colon or not _TOKEN.fullmatch(name):
            handler.send_error(400, "Bad header line: not <name>: <value>")
            return None
        if len(items) >= _MAX_HEADERS:
            handler.send_error(431, f"More than {_MAX_HEADERS} header fields.")
            return None
        items.append((name, value.strip()))
    return items
