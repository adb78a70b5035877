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

Classes: on a ``unittest.TestCase``, ``setUpClass`` .. ``tearDownClass`` run inside one
activation, the state ``setUpClass`` leaves (keys, aliases, scheduled events, call log, clock) is
snapshotted, and every test method (with its setUp/tearDown) starts from that snapshot. On any
other class each ``test*`` method gets its own activation, which also covers pytest's
``setup_method``/``teardown_method``. Subclasses of a decorated class are covered the same way.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import inspect
import os
import sys
import threading

from . import _regions, _transport
from ._names import is_account_id
from ._backend import Backend
from ._calls import CallLog

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"



_BACKEND = Backend()
_BACKEND.calls = CallLog()
_stack: list["MockKms"] = []
_saved: list[dict] = []  # per stack entry: the environment before that activation applied its own
_stack_lock = threading.RLock()

# Defaults of ``mock_kms()`` when no account/region is given (the pytest options change them;
# region None: from the environment, see ``_default_region``).
_defaults = {"account_id": DEFAULT_ACCOUNT, "region": None}
_REGION_VARIABLES = ("AWS_DEFAULT_REGION", "AWS_REGION")


def _set_defaults(account_id: str | None = None, region: str | None = None) -> dict:
    """Change the defaults of ``mock_kms()``; returns the previous ones (to give back to
    :func:`_restore_defaults`)."""
    previous = dict(_defaults)
    if account_id is not None:
        _defaults["account_id"] = _check_account(account_id)
    if region is not None:
        _defaults["region"] = _check_region(region)
    return previous


def _restore_defaults(previous: dict) -> None:
    _defaults.update(previous)


def _check_account(account_id) -> str:
    if not is_account_id(account_id):
        raise ValueError(f"mock_kms: account_id must be 12 digits, got {account_id!r}")
    return account_id


def _check_region(region, source: str = "region") -> str:
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
    "AWS_ACCESS_KEY_ID": _transport._FAKE_CREDENTIALS[0],
    "AWS_SECRET_ACCESS_KEY": _transport._FAKE_CREDENTIALS[1],
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
                 seed=None, intercept_requests: bool = True):
        self.account_id = _check_account(account_id or _defaults["account_id"])
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
        return _BACKEND.calls

    def reset(self) -> None:
        """Empty all state (keys, aliases, grants, call log; the clock goes back to now)."""
        _BACKEND.reset()

    def advance(self, delta: _dt.timedelta | None = None, /, **kwargs) -> None:
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

    def start(self) -> "MockKms":
        with _stack_lock:
            outermost = not _stack
            load = self.seed is not None and self not in _stack
            if self not in _stack:
                self.region = self._region or _default_region()
            if outermost:
                _BACKEND.reset()
            _saved.append(_apply_env(self.region))
            _stack.append(self)
            _transport.activate(self, self.intercept_requests)
            if load:
                try:
                    from . import _seed
                    _seed.load_seed(self.seed, _BACKEND, self.account_id, self.region)
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

    def __enter__(self) -> "MockKms":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- decoration ------------------------------------------------------------------------
    def __call__(self, target):
        if inspect.isclass(target):
            return self._decorate_class(target)
        if inspect.iscoroutinefunction(target):
            @functools.wraps(target)
            async def async_wrapper(*args, **kwargs):
                with self:
                    return await target(*args, **kwargs)
            return async_wrapper
        if inspect.isgeneratorfunction(target):
            # active from the first next() until the generator finishes or is closed (a pytest
            # yield fixture: its setup, the test and its teardown)
            @functools.wraps(target)
            def generator_wrapper(*args, **kwargs):
                with self:
                    return (yield from target(*args, **kwargs))
            return generator_wrapper
        if inspect.isasyncgenfunction(target):
            @functools.wraps(target)
            async def async_generator_wrapper(*args, **kwargs):
                with self:
                    agen = target(*args, **kwargs)
                    try:
                        value = await agen.__anext__()
                        while True:
                            try:
                                sent = yield value
                            except GeneratorExit:
                                raise
                            except BaseException as exc:
                                value = await agen.athrow(exc)
                            else:
                                value = await agen.asend(sent)
                    except StopAsyncIteration:
                        return
                    finally:
                        await agen.aclose()
            return async_generator_wrapper
        if callable(target):
            @functools.wraps(target)
            def wrapper(*args, **kwargs):
                with self:
                    return target(*args, **kwargs)
            return wrapper
        raise TypeError(f"mock_kms cannot decorate {target!r}")

    def _decorate_class(self, cls: type) -> type:
        mock = self
        is_testcase = _is_testcase(cls)
        self._wrap_members(cls, is_testcase)
        original_init_subclass = cls.__dict__.get("__init_subclass__")

        def __init_subclass__(subclass, **kwargs):
            if original_init_subclass is not None:
                original_init_subclass.__func__(subclass, **kwargs)
            else:
                super(cls, subclass).__init_subclass__(**kwargs)
            mock._wrap_members(subclass, is_testcase)
        cls.__init_subclass__ = classmethod(__init_subclass__)

        if is_testcase:
            original_run = cls.run

            def run(test, result=None):
                klass = type(test)
                if klass in mock._class_started:
                    _reinstate(mock._snapshots[klass])
                    return original_run(test, result)
                with mock:  # run outside setUpClass (e.g. a single test): fresh state
                    return original_run(test, result)
            cls.run = functools.wraps(original_run)(run)
        return cls

    def _wrap_members(self, cls: type, is_testcase: bool) -> None:
        if is_testcase:
            self._wrap_class_hook(cls, "setUpClass", setup=True)
            self._wrap_class_hook(cls, "tearDownClass", setup=False)
            return
        for name, value in list(vars(cls).items()):
            if name.startswith("test") and inspect.isfunction(value):
                setattr(cls, name, self._method(value))
        self._wrap_method_hook(cls, "setup_method", setup=True)
        self._wrap_method_hook(cls, "teardown_method", setup=False)

    # plain classes: pytest's setup_method starts the activation that the test method and
    # teardown_method share; a test method called without setup_method gets its own.
    _INSTANCE_FLAG = "_mockkms_activation"

    def _method(self, fn):
        mock, flag = self, self._INSTANCE_FLAG
        wrapped = self(fn)
        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def async_method(instance, *args, **kwargs):
                if instance.__dict__.get(flag) is mock:
                    return await fn(instance, *args, **kwargs)
                return await wrapped(instance, *args, **kwargs)
            return async_method

        @functools.wraps(fn)
        def method(instance, *args, **kwargs):
            if instance.__dict__.get(flag) is mock:
                return fn(instance, *args, **kwargs)
            return wrapped(instance, *args, **kwargs)
        return method

    def _wrap_method_hook(self, cls: type, name: str, setup: bool) -> None:
        mock, flag = self, self._INSTANCE_FLAG
        own = cls.__dict__.get(name)

        def call_own(instance, args):
            fn = own.__get__(instance) if own is not None else \
                getattr(super(cls, instance), name, None)
            if fn is None:
                return None
            return fn(*args) if _takes_argument(fn) else fn()  # pytest's own rule

        def hook(instance, *args):
            state = instance.__dict__.get(flag)
            if setup:
                if state is not None:  # an overriding setup_method called super()
                    return call_own(instance, args)
                mock.start()
                instance.__dict__[flag] = mock
                try:
                    return call_own(instance, args)
                except BaseException:
                    del instance.__dict__[flag]
                    mock.stop()
                    raise
            if state is not mock:  # nested call from an overriding teardown_method
                return call_own(instance, args)
            instance.__dict__[flag] = "tearing down"
            try:
                return call_own(instance, args)
            finally:
                del instance.__dict__[flag]
                mock.stop()
        def method_hook(instance, method=None):  # two arguments: pytest passes ``method``
            return hook(instance, method)
        method_hook.__name__ = name
        method_hook.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, method_hook)

    def _wrap_class_hook(self, cls: type, name: str, setup: bool) -> None:
        mock = self
        own = cls.__dict__.get(name)

        def hook(klass):
            depth = mock._class_depth.get(klass, 0)
            outer = depth == 0
            mock._class_depth[klass] = depth + 1
            try:
                if setup and outer and klass not in mock._class_started:
                    mock.start()
                    mock._class_started.add(klass)
                try:
                    if own is not None:
                        own.__func__(klass)
                    else:
                        getattr(super(cls, klass), name)()
                    if setup and outer:
                        mock._snapshots[klass] = _capture()
                except BaseException:
                    if setup and outer:
                        mock._class_started.discard(klass)
                        mock.stop()
                    raise
                finally:
                    if not setup and outer and klass in mock._class_started:
                        mock._class_started.discard(klass)
                        mock._snapshots.pop(klass, None)
                        mock.stop()
            finally:
                mock._class_depth[klass] = depth
        hook.__name__ = name
        setattr(cls, name, classmethod(hook))

    def __repr__(self) -> str:
        state = "active" if self.active else "inactive"
        return f"<MockKms account={self.account_id} region={self.region} {state}>"


def _is_testcase(cls: type) -> bool:
    """Whether ``cls`` is a ``unittest.TestCase``. unittest is not imported for this (it costs
    import time): a TestCase subclass exists only if unittest was imported already."""
    unittest = sys.modules.get("unittest")
    return unittest is not None and issubclass(cls, unittest.TestCase)


def _takes_argument(fn) -> bool:
    """Whether pytest would pass ``method`` to this setup_method/teardown_method."""
    code = getattr(fn, "__code__", None)
    if code is None or code.co_flags & inspect.CO_VARARGS:
        return True
    return code.co_argcount - (1 if inspect.ismethod(fn) else 0) > 0


def _capture() -> tuple:
    """Everything a TestCase method must start from: state, call log and clock."""
    return _BACKEND.snapshot(), list(_BACKEND.calls), _BACKEND.clock._offset


def _reinstate(captured: tuple) -> None:
    snapshot, calls, offset = captured
    with _BACKEND.lock:
        _BACKEND.restore(snapshot)
        _BACKEND.calls[:] = calls
        _BACKEND.clock._offset = offset


@contextlib.contextmanager
def fresh(mock: MockKms):
    """Run ``mock`` with empty state even inside an outer activation: what the backend holds
    (stores, scheduled events, call log, clock offset) is set aside before ``mock`` starts and
    put back, exactly, after it stops. Without an outer activation this is ``with mock``."""
    with _stack_lock:
        outer = _capture() if _stack else None
        if outer is not None:
            _BACKEND.reset()
        try:
            mock.start()
        except BaseException:
            if outer is not None:
                _reinstate(outer)
            raise
    try:
        yield mock
    finally:
        with _stack_lock:
            try:
                mock.stop()
            finally:
                if outer is not None:
                    _reinstate(outer)


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


def mock_kms(func=None, *, account_id: str | None = None, region: str | None = None,
             seed=None, intercept_requests: bool = True):
    """Mock AWS KMS in process.

    ``@mock_kms`` or ``@mock_kms(...)`` on a function, coroutine function or class;
    ``with mock_kms(...) as m:``; or ``m = mock_kms(); m.start(); ...; m.stop()``.

    ``account_id``/``region``: the account of requests not signed with a 12-digit access key id,
    and the region put in the environment. Account: ``--mockkms-account``, else
    ``123456789012``. Region: ``--mockkms-region``, else the user's ``AWS_DEFAULT_REGION``, else
    ``AWS_REGION`` (read at start), else ``us-east-1``; one that botocore does not know is a
    ``ValueError``. ``seed``: a seed file (or mapping) loaded
    at start, see :func:`mockkms.load_seed`. ``intercept_requests``: also answer ``requests``
    calls to KMS endpoints (through ``responses``); other URLs pass through to whatever
    ``requests`` would otherwise use (a ``responses`` mock of your own included). The outermost
    activation decides: an activation started while another is active keeps the interception
    (or its absence) that the outer one chose, whatever its own ``intercept_requests`` says.
    """
    mock = MockKms(account_id=account_id, region=region, seed=seed,
                   intercept_requests=intercept_requests)
    if func is not None:
        return mock(func)
    return mock


def load_seed(path, backend: Backend | None = None, account_id: str | None = None,
              region: str | None = None) -> list[str]:
    """Load seed ``path`` (a JSON/YAML file or a mapping, format: ``mockkms._seed``), all or
    nothing; returns the key ids in file order. ``backend``, ``account_id``, ``region``: where
    to (default: the active ``mock_kms``'s, else RuntimeError; 123456789012/us-east-1)."""
    from . import _seed
    active = _stack[-1] if _stack else None
    if backend is None and active is None:
        raise RuntimeError("load_seed() needs an active mock_kms (or a backend=)")
    return _seed.load_seed(path, backend or active.backend,
                           account_id or (active.account_id if active else DEFAULT_ACCOUNT),
                           region or (active.region if active else DEFAULT_REGION))
