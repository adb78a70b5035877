"""``mock_kms``: one object that is a decorator (functions, coroutines, classes), a context manager
and a start/stop switch.

State: all in-process activations share one backend. It is emptied when the outermost activation
starts; an inner activation shares what the outer one holds (the pytest fixtures and marker
instead set the outer state aside for their test: :func:`fresh`). While any activation is
active, fake credentials and the mock's default region are in the environment (the previous
values are restored on stop, unset ones unset again), so a test needs no AWS configuration and
real credentials are never read or used.

Region: ``region=`` if given; else the ``--mockkms-region`` pytest option; else the user's
``AWS_DEFAULT_REGION`` (what botocore reads), else ``AWS_REGION`` (what other SDKs and Lambda
set), read when the activation starts; else ``us-east-1``. Inside an active mock those variables
hold its region, so a nested ``mock_kms()`` inherits it. A region botocore's partition data does
not list is refused with ``ValueError`` (``mockkms._regions``): given as ``region=``/option when
the mock is made, found in the environment when it starts.

Activations may be stopped in any order: the environment is restored exactly (values byte for
byte, unset variables unset again) when the last one stops, and while some remain it reflects the
innermost. A ``seed`` is loaded each time the activation that carries it starts (and is not
already active); a seed that fails to load leaves nothing started.

Classes: on a ``unittest.TestCase``, ``setUpClass`` .. ``tearDownClass`` run inside one activation,
the state ``setUpClass`` leaves (keys, aliases, registered principals, scheduled events, call log,
clock) is snapshotted, and every test method (with its setUp/tearDown) starts from that snapshot. On
any other class each ``test*`` method gets its own activation, which also covers pytest's
``setup_method``/``teardown_method``. Subclasses of a decorated class are covered the same way.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import os
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Callable, TypeVar, overload

from . import _decorate, _regions, _signing, _transport
from ._authz.principals import check_switch as _check_switch
from ._backend import Backend
from ._calls import CallLog
from ._names import is_account_id

if TYPE_CHECKING:
    from ._authz.handles import IamPrincipal
    from ._seed import SeedSource

# what the decorator form takes and gives back: a function, coroutine function or class
_Target = TypeVar("_Target", bound=Callable[..., Any])

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"



_BACKEND = Backend()
_CALLS = _BACKEND.calls = CallLog()
_stack: list[MockKms] = []
_saved: list[dict] = []  # per stack entry: the environment before that activation applied its own
_stack_lock = threading.RLock()

# Defaults of ``mock_kms()`` when no account/region is given (the pytest options change them;
# region None: from the environment, see ``_default_region``).
_defaults: dict[str, Any] = {"account_id": DEFAULT_ACCOUNT, "region": None,
                             "authorization": True}
_REGION_VARIABLES = ("AWS_DEFAULT_REGION", "AWS_REGION")


def _set_defaults(account_id: str | None = None, region: str | None = None,
                  authorization: bool | None = None) -> dict:
    """Change the defaults of ``mock_kms()``; returns the previous ones (to give back to
    :func:`_restore_defaults`)."""
    previous = dict(_defaults)
    if account_id is not None:
        _defaults["account_id"] = _check_account(account_id)
    if region is not None:
        _defaults["region"] = _check_region(region)
    if _check_switch(authorization, "mock_kms") is not None:
        _defaults["authorization"] = authorization
    return previous


def _restore_defaults(previous: dict) -> None:
    _defaults.update(previous)


def _check_account(account_id: Any) -> str:
    if not is_account_id(account_id):
        raise ValueError(f"mock_kms: account_id must be 12 digits, got {account_id!r}")
    return account_id


def _check_region(region: Any, source: str = "region") -> str:
    if not (isinstance(region, str) and _regions.exists(region)):
        raise ValueError(f"mock_kms: {source} must be an AWS Region that botocore knows, like "
                         f"'us-east-1'; got {region!r}")
    return region


def _default_region(strict: bool = True) -> str:
    """The region of a mock made without ``region=`` (the order is in the module's docstring).
    ``strict``: a variable naming no Region is a ``ValueError`` (else ``us-east-1`` is used)."""
    if _defaults["region"] is not None:
        return _defaults["region"]
    for name in _REGION_VARIABLES:
        value = os.environ.get(name)
        if value:
            if not strict and not _regions.exists(value):
                break
            return _check_region(value, f"{name} (the default region of mock_kms)")
    return DEFAULT_REGION

_NOWHERE = os.path.join(os.sep, "nonexistent", "mockkms", "aws")
# Variables the mock sets (value) or removes (None) while active.
_FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": _signing.FAKE_CREDENTIALS[0],
    "AWS_SECRET_ACCESS_KEY": _signing.FAKE_CREDENTIALS[1],
    "AWS_SESSION_TOKEN": None,
    "AWS_SECURITY_TOKEN": None,
    "AWS_PROFILE": None,
    "AWS_DEFAULT_PROFILE": None,
    "AWS_ROLE_ARN": None,
    "AWS_WEB_IDENTITY_TOKEN_FILE": None,
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": None,
    "AWS_CONTAINER_CREDENTIALS_FULL_URI": None,
    "AWS_SHARED_CREDENTIALS_FILE": _NOWHERE + "/credentials",
    "AWS_CONFIG_FILE": _NOWHERE + "/config",
    "AWS_EC2_METADATA_DISABLED": "true",
}


class MockKms:
    """An activation of the in-memory KMS. Create it with :func:`mock_kms`."""

    def __init__(self, account_id: str | None = None, region: str | None = None,
                 seed: SeedSource | None = None, intercept_requests: bool = True,
                 authorization: bool | None = None) -> None:
        self.account_id = _check_account(account_id or _defaults["account_id"])
        # None: the pytest option's default (--mockkms-no-authorization), else on
        self.authorization = _defaults["authorization"] if \
            _check_switch(authorization, "mock_kms") is None else authorization
        self._region = _check_region(region) if region else None
        # what it would be now; settled (from the environment) each time it starts
        self.region = self._region or _default_region(strict=False)
        self.seed = seed
        self.intercept_requests = intercept_requests
        self._snapshots: dict[type, tuple] = {}
        self._class_depth: dict[type, int] = {}
        self._class_started: set[type] = set()

    # --- state ---------------------------------------------------------------------------
    @property
    def backend(self) -> Backend:
        return _BACKEND

    @property
    def calls(self) -> CallLog:
        """Every KMS request answered since the outermost activation started, in order
        (``.clear()`` empties it, ``.of("Encrypt")`` filters it)."""
        return _CALLS

    def reset(self) -> None:
        """Empty all state (keys, aliases, grants, registered principals, call log; the clock goes
        back to now)."""
        _BACKEND.reset()

    # --- who calls ---------------------------------------------------------------------------
    def principal(self, arn: str, policies: list | None = None,
                  tags: dict | None = None) -> IamPrincipal:
        """Register the IAM user or role ``arn`` (any account: the account is the ARN's;
        ``"user/alice"`` or ``"role/app"`` mean one of the mock's account) with identity
        ``policies`` (JSON texts or dicts) and principal ``tags``; returns an
        :class:`~mockkms._authz.handles.IamPrincipal` with ``.arn``, ``.credentials`` (for
        ``boto3.client("kms", **p.credentials)``), ``.client(region_name=None, **kwargs)`` and,
        for a role, ``.assume(session_name, tags=None)``. Registering an ARN again replaces its
        policies and tags and keeps its credentials. Requests signed with other credentials come
        from an account's root (see ``mock_kms``). Principals are state: an outermost
        activation, ``reset()`` and the pytest fixtures start without any, so this mock must be
        active (``RuntimeError`` otherwise: a principal registered before ``start()`` would be
        wiped by it), and a handle whose principal a later reset removed raises
        ``RuntimeError`` when used."""
        if not self.active:
            raise RuntimeError("principal() needs this mock_kms to be active (inside its with "
                               "block, decorated function or after start()): principals are "
                               "part of its state, which starting it empties")
        from ._authz.handles import IamPrincipal
        from ._authz.principals import register, shorthand
        arn = shorthand(arn, self.account_id, self.region)
        record = register(_BACKEND, arn, policies, tags, _BACKEND.clock.now())
        return IamPrincipal(_BACKEND, record.arn, self.region)

    @contextlib.contextmanager
    def via_service(self, service: str) -> Iterator[MockKms]:
        """Requests made inside arrive through the AWS service ``service`` (``"s3"``): they
        carry ``kms:ViaService`` ``<service>.<region>.amazonaws.com``, ``aws:CalledVia``,
        ``kms:GrantIsForAWSResource`` (grant operations), as when that service calls KMS on the
        caller's behalf; AWS managed keys (``alias/aws/<service>``) are usable only so.

        A context variable: the asyncio tasks and ``contextvars.copy_context().run`` calls made
        inside inherit it; a thread started inside does not (Python starts threads with an empty
        context, except free-threaded builds from 3.14), so its requests are direct calls unless
        it enters ``via_service`` itself. Nested blocks: the innermost service wins."""
        from ._authz.principals import VIA_SERVICE, check_service
        token = VIA_SERVICE.set(check_service(service))
        try:
            yield self
        finally:
            VIA_SERVICE.reset(token)

    def advance(self, delta: _dt.timedelta | None = None, /, **kwargs: float) -> None:
        """Move the mock's clock forward (a ``timedelta`` or its keywords: ``days=7``) and apply
        what AWS would have done meanwhile: deletions, rotations, material expiry."""
        if delta is None:
            delta = _dt.timedelta(**kwargs)
        elif kwargs:
            raise TypeError("advance() takes a timedelta or keywords, not both")
        _BACKEND.clock.advance(delta)
        _BACKEND.tick()

    # --- start / stop ----------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self in _stack

    def start(self) -> MockKms:
        with _stack_lock:
            outermost = not _stack
            seed = self.seed if self not in _stack else None  # not again when re-entered
            if self not in _stack:
                self.region = self._region or _default_region()
            if outermost:
                _BACKEND.reset()
            _saved.append(_apply_env(self.region))
            _stack.append(self)
            _transport.activate(self, self.intercept_requests)
            if seed is not None:
                try:
                    _load_seed(seed, self, _BACKEND, self.account_id, self.region)
                except BaseException:
                    self.stop()
                    raise
        return self

    def stop(self) -> None:
        with _stack_lock:
            if self not in _stack:
                raise RuntimeError("mock_kms.stop() called on an activation that is not active")
            # remove the innermost occurrence of this activation
            index = len(_stack) - 1 - _stack[::-1].index(self)
            del _stack[index]
            saved = _saved.pop(index)
            if index < len(_stack):
                # stopped out of order: the activation above it now restores what it saved
                _saved[index] = saved
            else:
                _restore_env(saved)
            _transport.deactivate(_stack[-1] if _stack else None)

    def __enter__(self) -> MockKms:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- decoration ------------------------------------------------------------------------
    def __call__(self, target: _Target) -> _Target:
        return _decorate.decorate(self, target)

    def __repr__(self) -> str:
        state = "active" if self.active else "inactive"
        if not self.authorization:
            state += " authorization=False"
        return f"<MockKms account={self.account_id} region={self.region} {state}>"


@contextlib.contextmanager
def fresh(mock: MockKms) -> Iterator[MockKms]:
    """Run ``mock`` with empty state even inside an outer activation: what the backend holds
    (stores, scheduled events, call log, clock offset) is set aside before ``mock`` starts and
    put back, exactly, after it stops. Without an outer activation this is ``with mock``."""
    with _stack_lock:
        outer = _decorate.capture(_BACKEND) if _stack else None
        if outer is not None:
            _BACKEND.reset()
        try:
            mock.start()
        except BaseException:
            if outer is not None:
                _decorate.reinstate(_BACKEND, outer)
            raise
    try:
        yield mock
    finally:
        with _stack_lock:
            try:
                mock.stop()
            finally:
                if outer is not None:
                    _decorate.reinstate(_BACKEND, outer)


def _apply_env(region: str) -> dict:
    saved = {}
    changes = dict(_FAKE_ENV, AWS_DEFAULT_REGION=region, AWS_REGION=region)
    for name, value in changes.items():
        saved[name] = os.environ.get(name)
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    return saved


def _restore_env(saved: dict) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@overload
def mock_kms(func: None = None, *, account_id: str | None = None, region: str | None = None,
             seed: SeedSource | None = None, intercept_requests: bool = True,
             authorization: bool | None = None) -> MockKms: ...
@overload
def mock_kms(func: _Target, *, account_id: str | None = None, region: str | None = None,
             seed: SeedSource | None = None, intercept_requests: bool = True,
             authorization: bool | None = None) -> _Target: ...
def mock_kms(func: _Target | None = None, *, account_id: str | None = None,
             region: str | None = None, seed: SeedSource | None = None,
             intercept_requests: bool = True,
             authorization: bool | None = None) -> MockKms | _Target:
    """Mock AWS KMS in process.

    ``@mock_kms`` or ``@mock_kms(...)`` on a function, coroutine function or class;
    ``with mock_kms(...) as m:``; or ``m = mock_kms(); m.start(); ...; m.stop()``.

    ``account_id``/``region``: the account of requests signed with neither a 12-digit access key id
    nor a registered principal's key (``principal()``), and the region put in the environment.
    Account: ``--mockkms-account``, else ``123456789012``. Region: ``--mockkms-region``, else the
    user's ``AWS_DEFAULT_REGION``, else ``AWS_REGION`` (read at start), else ``us-east-1``; one that
    botocore does not know is a ``ValueError``. ``seed``: a seed file (or mapping) loaded
    at start, see :func:`mockkms.load_seed`. ``intercept_requests``: also answer ``requests``
    calls to KMS endpoints (through ``responses``); other URLs pass through to whatever
    ``requests`` would otherwise use (a ``responses`` mock of your own included). The outermost
    activation decides: an activation started while another is active keeps the interception
    (or its absence) that the outer one chose, whatever its own ``intercept_requests`` says.
    ``authorization``: evaluate key policies, grants and identity policies as AWS does (the
    default; see docs/authorization.md); ``False`` lets every caller do everything (for suites
    that only want storage); ``None``: the default. The innermost active mock's setting applies.
    Anything but a bool or None (``"false"``) is a ``TypeError``.
    """
    mock = MockKms(account_id=account_id, region=region, seed=seed,
                   intercept_requests=intercept_requests, authorization=authorization)
    if func is not None:
        return mock(func)
    return mock


def load_seed(path: SeedSource, backend: Backend | None = None, account_id: str | None = None,
              region: str | None = None) -> list[str]:
    """Load seed ``path`` (a JSON/YAML file or a mapping, format: ``mockkms._seed``), all or
    nothing; returns the key ids in file order. ``backend``, ``account_id``, ``region``: where
    to (default: the active ``mock_kms``'s, else RuntimeError; 123456789012/us-east-1).
    Loaded into the active mock, a seed's ``"Authorization": false`` turns that mock's
    evaluation off, as ``mock_kms(seed=...)`` does (another ``backend=`` has no switch: the
    setting is then not applied)."""
    active = _stack[-1] if _stack else None
    if backend is None:
        if active is None:
            raise RuntimeError("load_seed() needs an active mock_kms (or a backend=)")
        backend = active.backend
    return _load_seed(path, active if backend is _BACKEND else None, backend,
                      account_id or (active.account_id if active else DEFAULT_ACCOUNT),
                      region or (active.region if active else DEFAULT_REGION))


def _load_seed(path: SeedSource, mock: MockKms | None, backend: Backend, account_id: str,
               region: str) -> list[str]:
    """Load seed ``path`` into ``backend``; its ``"Authorization": false`` switches ``mock``'s
    evaluation off (when a mock is given)."""
    from . import _seed
    ids = _seed.load_seed(path, backend, account_id, region)
    if mock is not None and _seed.settings(path).get("Authorization") is False:
        mock.authorization = False  # the seed turns evaluation off
    return ids
