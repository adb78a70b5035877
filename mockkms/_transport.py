"""Interception: the only module that knows botocore's events and HTTP classes, and the
``responses`` library.

* botocore, the fast path: a ``before-send.kms`` handler is added to botocore's built-in
  handlers when mockkms is imported, so every session created afterwards (boto3's default one
  included, aiobotocore's and the AWS CLI's) carries it; it is also registered on boto3's
  default session if that exists already. While no mock is active the handler returns ``None``
  and botocore sends the request as usual; while one is, every KMS request is answered in
  process and never reaches a socket. Requests to other services never reach this handler (the
  event is KMS's own).
* botocore, the safety net: a client made before ``import mockkms`` (or from a session made
  before it) does not carry that handler: a client copies its session's handlers when it is
  made, and a session the built-ins when it is made. So while a mock is active (and only then)
  the class-level ``send`` of botocore's HTTP session (``URLLib3Session``) and of aiobotocore's
  (``AIOHTTPSession``, ``HttpxSession``; when aiobotocore is imported) is wrapped: a KMS request
  that reaches it (``X-Amz-Target: TrentService.*``, or a ``kms.<region>.amazonaws.com`` host)
  is answered by the same code as the fast path, and anything else goes to the original
  ``send`` untouched. If a KMS request cannot be answered there, :class:`InterceptionError`
  says why: it is never sent to AWS instead.
* signing: while a mock is active, ``RequestSigner.get_auth_instance`` (and aiobotocore's
  ``AioRequestSigner.get_auth_instance``) are wrapped too, so every client is covered, made
  before ``import mockkms`` or after. For a KMS request a client without credentials (made
  before the mock started, on a machine with none) borrows the mock's fake credentials (given
  back, ``None``, when the last mock stops), and botocore's SigV4 signer is replaced by a
  stand-in (``Unsigned``): botocore still chooses the signer, runs its ``choose-signer`` and
  ``before-sign`` events and resolves the credentials and the signing region by its own rules,
  and a session token still goes in ``X-Amz-Security-Token``, but no signature is computed
  (nothing checks it while a mock is active, and it was a quarter of a call's time). The access
  key id and signing region go in the ``X-Mockkms-Credential`` header instead of
  ``Authorization``'s credential scope; a request to a Region that does not exist is refused
  there, before it is sent (:mod:`mockkms._regions`), so botocore does not retry it. Requests
  to other services, every request while no mock is active, and KMS clients configured to sign
  otherwise (or not at all) are signed exactly as botocore signs them.
* The wrapped attributes are the classes' own, restored (the very same objects) when the last
  mock stops, whatever the order in which nested activations stop. If something else replaced
  one of them meanwhile, that replacement is left in place (it may call ours, which passes
  everything through once no mock is active).
* aiobotocore: the response's body is awaitable as aiobotocore expects (``_Content``), and an
  aiobotocore signer with no or self-refreshing credentials is lent ``AioCredentials``. Its
  classes are wrapped when the outermost mock starts if aiobotocore is imported by then; one
  imported later can only have sessions made after mockkms, which carry the fast path's handler
  (only a client of it in a made-up Region then gets its ``EndpointConnectionError`` after
  botocore's retries, not at once).
* Not wrapped: an HTTP session class of one's own (``http_session_cls``) that does not call
  ``URLLib3Session.send``; a client made before ``import mockkms`` with one would not be seen.
* ``requests``: while a mock is active, ``responses`` answers POSTs to KMS's own URL —
  ``https://kms[-fips].<region>.<suffix>/`` under every DNS suffix of botocore's partition data,
  dual-stack ones included (:func:`_kms_urls`) — from the same backend and passes every other URL
  through.

Each request becomes (account, region, caller, target, body): :func:`resolve` is the one place
that decides who calls and where, from the access key id and signing region (:func:`credential`:
the ``X-Mockkms-Credential`` header of an unsigned request, else the SigV4 credential scope;
else the endpoint host, else the mock's default): the access key id of a registered principal
(``MockKms.principal``) is that principal, in its account; an access key id of exactly 12
digits is the root of that account; any other is the root of the mock's default account. A
Region that does not exist is refused before any state is touched (``UnknownRegionError``, an
``EndpointConnectionError``; the server turns it into an HTTP 400).
"""
from __future__ import annotations

import functools
import importlib
import io
import re
import sys
import threading
import weakref
from typing import Any

from . import _dispatch, _regions, _signing
from ._authz import principals as _principals
from ._protocol import CONTENT_TYPE
from ._signing import CREDENTIAL_HEADER

_route = None          # the innermost active mock (anything with backend/account_id/region)
_lock = threading.Lock()

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/,\s]+)/")


@functools.lru_cache(maxsize=1)
def _kms_urls() -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    """(any URL of a KMS endpoint, KMS's own URL for ``responses``, everything else): KMS's
    hosts ``kms[-fips].<region>.<suffix>`` under every DNS suffix of botocore's partition data,
    dual-stack ones included (``api.aws``, ``amazonaws.com.cn``, ``c2s.ic.gov``, ...); group 1
    is the Region. Compiled on first use, not at import."""
    suffixes = "|".join(re.escape(s) for s in sorted(_regions.dns_suffixes(), key=len,
                                                           reverse=True))
    origin = rf"https?://kms(?:-fips)?\.([a-z0-9-]+)\.(?:{suffixes})"
    return (re.compile(rf"^{origin}(?=[:/?]|$)"), re.compile(rf"^{origin}/?$"),
            re.compile(rf"^(?!{origin}(?:[:/?]|$))"))


def _text(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.decode("latin-1")


def credential(headers) -> tuple[str | None, str | None]:
    """(access key id, signing region) of a request: from the ``X-Mockkms-Credential`` header
    of a request the ``Unsigned`` stand-in handled, else from the credential scope of its SigV4
    ``Authorization`` header; (None, None) if unsigned. A known region is the one string
    ``_regions`` holds for it: the call log keeps it with every entry."""
    value = headers.get(CREDENTIAL_HEADER)
    if value is not None:
        access_key_id, _, region = (_text(value) or "").rpartition("/")
        return access_key_id or None, _regions.canonical(region) if region else None
    match = _CREDENTIAL.search(_text(headers.get("Authorization")) or "")
    if match is None:
        return None, None
    return match.group(1), _regions.canonical(match.group(2))


def identify(headers, url: str, route) -> tuple[str, str, object]:
    """(account, region, caller) of a request, from its credential (:func:`credential`) and
    URL."""
    access_key_id, region = credential(headers)
    return resolve(route, access_key_id, region, url)


def resolve(route, access_key_id: str | None, region: str | None, url: str | None
            ) -> tuple[str, str, object]:
    """(account, region, caller) of a request signed with ``access_key_id`` for ``region``
    (either may be None: unsigned) sent to ``url``: the one place that decides them. The caller
    (``_authz.principals.Caller``) carries the route's ``authorization`` switch and the service
    the request arrives through (``MockKms.via_service``)."""
    if region is None:
        host = _kms_urls()[0].match(url or "")
        region = host.group(1) if host else route.region
    keeper = route.backend.keeper
    if keeper is not None:  # principals another process registered (a shared state directory)
        keeper.catch_up()
    caller = _principals.identify(route.backend, access_key_id, route.account_id, region,
                                  getattr(route, "authorization", True))
    return caller.account, region, caller


def answer(route, headers, url: str, body) -> tuple[int, dict, bytes]:
    """Run one request against ``route``'s backend; (status, headers, body). A request to a
    Region that does not exist raises ``_regions.UnknownRegionError`` and changes nothing."""
    account, region, caller = identify(headers, url, route)
    _regions.require(region, url)
    status, payload = _dispatch.handle(route.backend, account, region,
                                       _text(headers.get("X-Amz-Target")), body, caller)
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


_AWSResponse: Any = None  # botocore.awsrequest.AWSResponse, looked up on the first request


def _before_send(request, **kwargs):
    global _AWSResponse
    route = _route
    if route is None:
        return None
    AWSResponse = _AWSResponse
    if AWSResponse is None:
        from botocore.awsrequest import AWSResponse as loaded
        AWSResponse = _AWSResponse = loaded

    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    status, headers, payload = answer(route, request.headers, request.url, body)
    response = AWSResponse(request.url, status, headers, _RawBody(payload))
    response._content = _Content(payload)
    return response


_HOOKS = (("before-send.kms", _before_send, "mockkms-before-send"),)


def install_botocore_hook() -> None:
    """Add the handler to botocore's built-ins, so every session created from now on carries
    it, and to boto3's default session if it exists already (done once, at import).

    botocore calls *every* before-send handler, so each session must carry it exactly once.
    """
    import botocore.handlers

    for event, fn, _ in _HOOKS:
        if (event, fn) not in botocore.handlers.BUILTIN_HANDLERS:
            botocore.handlers.BUILTIN_HANDLERS.append((event, fn))
    boto3 = sys.modules.get("boto3")
    session = getattr(boto3, "DEFAULT_SESSION", None) if boto3 else None
    if session is not None:
        for event, fn, unique_id in _HOOKS:
            session._session.register(event, fn, unique_id=unique_id)


# --- the safety net: botocore's HTTP sessions and signers, wrapped while a mock is active ----

class InterceptionError(RuntimeError):
    """A KMS request reached botocore's HTTP layer while a mock is active and mockkms could not
    answer it: it is refused, never sent to AWS."""


def _is_kms(request) -> bool:
    target = _text(request.headers.get("X-Amz-Target"))
    if target is not None and target.startswith("TrentService."):
        return True
    return _kms_urls()[0].match(request.url or "") is not None


def _net_answer(request):
    """The mock's answer to a request that reached an HTTP session's ``send``: an AWSResponse
    for a KMS request, ``None`` for anything else (or once no mock is active): send it."""
    if _route is None or not _is_kms(request):
        return None
    try:
        return _before_send(request)  # exactly what the fast path answers
    except _regions.UnknownRegionError:
        raise  # what botocore raises against AWS there (it retries it, as it would)
    except Exception as exc:
        raise InterceptionError(
            f"mockkms could not answer a KMS request to {request.url} in process "
            f"({type(exc).__name__}: {exc}); a mock is active, so it was not sent to AWS"
        ) from exc


def _wrap_send(send):
    def mockkms_send(self, request):
        response = _net_answer(request)
        return send(self, request) if response is None else response
    return mockkms_send


def _wrap_async_send(send):
    async def mockkms_send(self, request):
        response = _net_answer(request)
        return await send(self, request) if response is None else response
    return mockkms_send


_hooked: weakref.WeakSet = weakref.WeakSet()  # signers _hook_first has seen


def _hook_first(signer) -> None:
    """Put the fast path's handler first on the emitter of a KMS client's signer, once per
    signer: a client made before ``import mockkms`` lacks it, and another mock's ``before-send``
    handler (moto's, imported earlier) would otherwise answer before the safety net sees the
    request. (The handler passes everything through while no mock is active, as on every client
    made after ``import mockkms``.)"""
    _hooked.add(signer)  # (not an attribute: kms_client's reuse watches the signer's)
    emitter = signer._event_emitter
    try:  # botocore's emitter (an EventAliaser around a HierarchicalEmitter): has it ours?
        present = [h for event, _, _ in _HOOKS
                   for h in emitter._emitter._handlers.prefix_search(event)]
        if all(handler in present for _, handler, _ in _HOOKS):
            return  # a client made after import mockkms: ours runs before generic handlers
    except AttributeError:  # pragma: no cover - another emitter: put it first anyway
        pass
    for event, handler, unique_id in _HOOKS:  # exactly once: botocore calls every handler
        emitter.unregister(event, handler)     # as botocore's built-ins put it there
        emitter.unregister(event, unique_id=unique_id)  # as install_botocore_hook does
        emitter.register_first(event, handler, unique_id=unique_id)


def _wrap_get_auth(get_auth_instance):
    def mockkms_get_auth_instance(self, *args, **kwargs):
        if _route is None or self._service_id != "KMS":
            return get_auth_instance(self, *args, **kwargs)
        if self not in _hooked:
            _hook_first(self)
        if type(self._credentials) is not _signing.Credentials:
            _signing.lend_credentials(self, aio=False)
        return _signing.stand_in(get_auth_instance(self, *args, **kwargs))
    return mockkms_get_auth_instance


def _wrap_async_get_auth(get_auth_instance):
    from aiobotocore.credentials import AioCredentials as _AioCredentials

    async def mockkms_get_auth_instance(self, *args, **kwargs):
        if _route is None or self._service_id != "KMS":
            return await get_auth_instance(self, *args, **kwargs)
        if self not in _hooked:
            _hook_first(self)
        if type(self._credentials) is not _AioCredentials:
            _signing.lend_credentials(self, aio=True)
        return _signing.stand_in(await get_auth_instance(self, *args, **kwargs))
    return mockkms_get_auth_instance


# (module, class, attribute, wrapper factory): what the safety net wraps. aiobotocore's only
# when it is imported (a client of it can exist only then; a session made after mockkms carries
# the fast path's handler anyway).
def _wrap_create_client(create_client):
    def mockkms_create_client(self, service_name, *args, **kwargs):
        if _route is not None:
            _signing.profile_credentials(self, service_name, kwargs)
        return create_client(self, service_name, *args, **kwargs)
    return mockkms_create_client


_NET = (("botocore.httpsession", "URLLib3Session", "send", _wrap_send),
        ("botocore.session", "Session", "create_client", _wrap_create_client),
        ("aiobotocore.session", "AioSession", "create_client", _wrap_create_client),
        ("botocore.signers", "RequestSigner", "get_auth_instance", _wrap_get_auth),
        ("aiobotocore.httpsession", "AIOHTTPSession", "send", _wrap_async_send),
        ("aiobotocore.httpxsession", "HttpxSession", "send", _wrap_async_send),
        ("aiobotocore.signers", "AioRequestSigner", "get_auth_instance",
         _wrap_async_get_auth))

_wrapped: list = []  # (class, attribute, original, wrapper) while a mock is active


def _install_net() -> None:
    _signing.define_unsigned()
    for module, class_name, name, wrap in _NET:
        if module.startswith("aiobotocore") and "aiobotocore" not in sys.modules:
            continue
        try:
            cls = getattr(importlib.import_module(module), class_name)
            original = cls.__dict__[name]
        except (ImportError, AttributeError, KeyError):  # pragma: no cover - other versions
            continue
        wrapper = wrap(original)
        setattr(cls, name, wrapper)
        _wrapped.append((cls, name, original, wrapper))


def _remove_net() -> None:
    while _wrapped:
        cls, name, original, wrapper = _wrapped.pop()
        if cls.__dict__.get(name) is wrapper:
            setattr(cls, name, original)


# --- requests (via responses) ----------------------------------------------------------------

_requests_mock = None


def _requests_callback(request):
    try:
        return answer(_route, request.headers, request.url, request.body)
    except _regions.UnknownRegionError as err:  # what requests raises when no host resolves
        import requests
        raise requests.ConnectionError(str(err), request=request) from None


def _start_requests() -> None:
    global _requests_mock
    try:
        import responses
    except ImportError:  # pragma: no cover - responses is a dependency
        return
    import requests.adapters

    # Passthrough goes to the send that is active now (a user's own ``responses`` mock, say),
    # not to the one ``responses`` captured when it was imported (keyword: responses >= 0.24).
    mock = responses.RequestsMock(
        assert_all_requests_are_fired=False,
        # requests' and responses' annotations of HTTPAdapter.send disagree (timeout, cert)
        real_adapter_send=requests.adapters.HTTPAdapter.send)  # type: ignore[arg-type]
    _, kms_url, not_kms = _kms_urls()
    mock.add_callback(responses.POST, kms_url, callback=_requests_callback)
    mock.add_passthru(not_kms)
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
    """Route intercepted requests to ``route`` (the innermost active mock). The first
    (outermost) activation wraps botocore's HTTP sessions and signers, and its
    ``intercept_requests`` starts the ``requests`` interception (or not), for as long as any
    activation is active."""
    global _route
    with _lock:
        first = _route is None
        if first:
            _install_net()
            _signing.save_default_session()
        _route = route
        if first:
            if intercept_requests:
                _start_requests()


def deactivate(previous) -> None:
    """Hand interception back to ``previous`` (None: stop intercepting, unwrap everything)."""
    global _route
    with _lock:
        _route = previous
        if previous is None:
            _remove_net()
            _stop_requests()
            _signing.return_lent_credentials()
            _signing.restore_default_session()
