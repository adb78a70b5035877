"""The error that server mode answers at the HTTP level (not through an operation): its own
HTTP status and an AWS-shaped code and message."""
from __future__ import annotations

from .. import _errors as E


class HttpError(E.KMSError):
    """An AWS-shaped error answered at the HTTP level, with its own status and code."""

    def __init__(self, status: int, code: str, message: str | None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self._code = code
        self.headers = headers or {}

    @property
    def code(self) -> str:
        return self._code
