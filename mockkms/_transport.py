"""Interception: the only module that knows botocore's events and the ``responses`` library.

* botocore: a ``before-send.kms`` handler is added to botocore's built-in handlers when mockkms is
  imported, so every session created afterwards (boto3's default one included, and the AWS
  CLI's) carries it; it is also registered on boto3's default session if that exists already.
  While no mock is active the handler returns ``None`` and botocore sends the request as usual;
  while one is, every KMS request is answered in process and never reaches a socket. Requests to
  other services never reach this handler (the event is KMS's own). Limit: a client made before
  ``import mockkms``, or later from a botocore session (other than boto3's default) made before
  it, is not seen: a client copies its session's handlers when it is made, and a session the
  built-ins when it is made. Under pytest the plugin imports mockkms at startup, before any test
  module, so this cannot happen there.
* clients without credentials (made before the mock started, on a machine with none): their
  signer borrows the fake credentials while a mock is active (``before-sign``), and gets
  ``None`` back when the last one stops.
* aiobotocore: its sessions use botocore's built-in handlers too, so the same handler answers;
  the response's body is awaitable as aiobotocore expects (``_Content``), and a credential-less
  aiobotocore signer borrows ``AioCredentials``.
* ``requests``: while a mock is active, ``responses`` answers POSTs to
  ``https://kms.<region>.amazonaws.com/`` from the same backend and passes every other URL through.

Each request becomes (account, region, target, body): the region comes from the SigV4 credential
scope (else the endpoint host, else the mock's default) and an access key id of exactly 12 digits
selects that account (else the mock's default account).
"""
from __future__ import annotations

import io
import re
import threading
import weakref

from . import _dispatch
from ._names import is_account_id
from ._protocol import CONTENT_TYPE

_route = None          # the innermost active mock (anything with backend/account_id/region)
_lock = threading.Lock()

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/,\s]+)/")
_HOST_REGION = re.compile(r"kms(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com")
_KMS_URL = re.compile(r"^https?://kms(?:-fips)?\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?/?$")


def _text(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.decode("latin-1")


def identify(headers, url: str, route) -> tuple[str, str]:
    """(account, region) of a request, from its SigV4 Authorization header and URL."""
    account, region = route.account_id, None
    match = _CREDENTIAL.search(_text(headers.get("Authorization")) or "")
    if match:
        akid, region = match.group(1), match.group(2)
        if is_account_id(akid):
            account = akid
    if region is None:
        host = _HOST_REGION.search(url or "")
        region = host.group(1) if host else route.region
    return account, region


def answer(route, headers, url: str, body) -> tuple[int, dict, bytes]:
    """Run one request against ``route``'s backend; (status, headers, body)."""
    account, region = identify(headers, url, route)
    status, payload = _dispatch.handle(route.backend, account, region,
                                       _text(headers.get("X-Amz-Target")), body)
    return status, {"x-amzn-RequestId": _dispatch.request_id(), "Content-Type": CONTENT_TYPE,
                    "Content-Length": str(len(payload))}, payload


# --- botocore ------------------------------------------------------------------------------

class _RawBody(io.BytesIO):
    """The ``raw`` of a botocore AWSResponse: a byte stream botocore reads with ``stream()``."""

    def stream(self, **kwargs):
        chunk = self.read()
        while chunk:
            yield chunk
            chunk = self.read()


class _Content(bytes):
    """A response body that is bytes for botocore and also awaitable (to the same bytes) for
    aiobotocore, whose endpoint does ``await http_response.content``. One response object thus
    serves both, with no need to tell which emitter called the handler."""

    def __await__(self):
        return bytes(self)
        yield  # pragma: no cover - makes __await__ a generator


_AWSResponse = None  # botocore.awsrequest.AWSResponse, looked up on the first request


def _before_send(request, **kwargs):
    global _AWSResponse
    route = _route
    if route is None:
        return None
    AWSResponse = _AWSResponse
    if AWSResponse is None:
        from botocore.awsrequest import AWSResponse
        _AWSResponse = AWSResponse

    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    status, headers, payload = answer(route, request.headers, request.url, body)
    response = AWSResponse(request.url, status, headers, _RawBody(payload))
    response._content = _Content(payload)
    return response


# Signers of clients that had no credentials when the mock started (a client created before
# activation on a machine with no AWS configuration): they borrow the mock's fake credentials
# while it is active and get ``None`` back when it stops.
_borrowed = weakref.WeakSet()


def _before_sign(request_signer=None, **kwargs):
    if _route is not None and request_signer is not None and \
            getattr(request_signer, "_credentials", True) is None:
        if type(request_signer).__module__.startswith("aiobotocore"):
            # aiobotocore's signer awaits ``get_frozen_credentials()``
            from aiobotocore.credentials import AioCredentials as Credentials
        else:
            from botocore.credentials import Credentials

        request_signer._credentials = Credentials(*_FAKE_CREDENTIALS)
        _borrowed.add(request_signer)


def _return_borrowed_credentials() -> None:
    for signer in list(_borrowed):
        signer._credentials = None
    _borrowed.clear()


_FAKE_CREDENTIALS = ("MOCKKMSFAKEACCESSKEY", "mockkms/fake/secret/access/key/not/real")
_HOOKS = (("before-send.kms", _before_send, "mockkms-before-send"),
          ("before-sign.kms", _before_sign, "mockkms-before-sign"))


def install_botocore_hook() -> None:
    """Add the handlers to botocore's built-ins, so every session created from now on carries
    them, and to boto3's default session if it exists already (done once, at import).

    botocore calls *every* before-send handler, so each session must carry them exactly once.
    """
    import sys

    import botocore.handlers

    for event, fn, _ in _HOOKS:
        if (event, fn) not in botocore.handlers.BUILTIN_HANDLERS:
            botocore.handlers.BUILTIN_HANDLERS.append((event, fn))
    boto3 = sys.modules.get("boto3")
    session = getattr(boto3, "DEFAULT_SESSION", None) if boto3 else None
    if session is not None:
        for event, fn, unique_id in _HOOKS:
            session._session.register(event, fn, unique_id=unique_id)


# --- requests (via responses) ----------------------------------------------------------------

_requests_mock = None


def _requests_callback(request):
    route = _route
    status, headers, payload = answer(route, request.headers, request.url, request.body)
    return status, headers, payload


def _start_requests() -> None:
    global _requests_mock
    try:
        import responses
    except ImportError:  # pragma: no cover - responses is a dependency
        return
    import requests.adapters

    # Passthrough goes to the send that is active now (a user's own ``responses`` mock, say),
    # not to the one ``responses`` captured when it was imported (keyword: responses >= 0.24).
    mock = responses.RequestsMock(assert_all_requests_are_fired=False,
                                  real_adapter_send=requests.adapters.HTTPAdapter.send)
    mock.add_callback(responses.POST, _KMS_URL, callback=_requests_callback)
    mock.add_passthru(re.compile(r"^(?!https?://kms(?:-fips)?\.[a-z0-9-]+\.amazonaws\.com)"))
    mock.start()
    _requests_mock = mock


def _stop_requests() -> None:
    global _requests_mock
    if _requests_mock is not None:
        _requests_mock.stop(allow_assert=False)
        _requests_mock.reset()
        _requests_mock = None


# --- activation ------------------------------------------------------------------------------

def activate(route, intercept_requests: bool) -> None:
    """Route intercepted requests to ``route`` (the innermost active mock). Only the first
    (outermost) activation's ``intercept_requests`` counts: it starts the ``requests``
    interception (or not) for as long as any activation is active."""
    global _route
    with _lock:
        first = _route is None
        _route = route
        if first:
            if intercept_requests:
                _start_requests()


def deactivate(previous) -> None:
    """Hand interception back to ``previous`` (None: stop intercepting)."""
    global _route
    with _lock:
        _route = previous
        if previous is None:
            _stop_requests()
            _return_borrowed_credentials()
