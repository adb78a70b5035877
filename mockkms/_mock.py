"""``mock_kms``: one object that is a decorator (functions, coroutines, classes), a context manager
and a start/stop switch.

State: all in-process activations share one backend. It is emptied when the outermost activation
starts; an inner activation shares what the outer one holds. While any activation is active,
fake credentials and the mock's default region are in the environment (the previous values are
restored on stop, unset ones unset again), so a test needs no AWS configuration and real
credentials are never read or used.

Classes: on a ``unittest.TestCase``, ``setUpClass`` .. ``tearDownClass`` run inside one
activation, the state ``setUpClass`` leaves is snapshotted, and every test method (with its
setUp/tearDown) starts from that snapshot. On any other class each ``test*`` method gets its own
activation. Subclasses of a decorated class are covered the same way.
"""
from __future__ import annotations

import datetime as _dt
import functools
import inspect
import os
import threading
import unittest

from . import _transport
from ._backend import Backend

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"

_BACKEND = Backend()
_stack: list["MockKms"] = []
_stack_lock = threading.RLock()

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

    def __init__(self, account_id: str = DEFAULT_ACCOUNT, region: str = DEFAULT_REGION,
                 seed=None, intercept_requests: bool = True):
        self.account_id = account_id
        self.region = region
        self.seed = seed
        self.intercept_requests = intercept_requests
        self._saved_env: list[dict] = []
        self._snapshots: dict[type, object] = {}
        self._class_depth: dict[type, int] = {}
        self._class_started: set[type] = set()

    # --- state ---------------------------------------------------------------------------
    @property
    def backend(self) -> Backend:
        return _BACKEND

    @property
    def calls(self) -> list:
        """Every KMS request answered since the outermost activation started, in order."""
        return _BACKEND.calls

    def reset(self) -> None:
        """Empty all state (keys, aliases, grants, call log; the clock goes back to now)."""
        _BACKEND.reset()

    def advance(self, **delta) -> None:
        """Move the mock's clock forward (``timedelta`` keywords) and apply what AWS would have
        done meanwhile: deletions, rotations, material expiry."""
        _BACKEND.clock.advance(_dt.timedelta(**delta))
        _BACKEND.tick()

    # --- start / stop ----------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self in _stack

    def start(self) -> "MockKms":
        with _stack_lock:
            outermost = not _stack
            if outermost:
                _BACKEND.reset()
            self._saved_env.append(_apply_env(self.region))
            _stack.append(self)
            _transport.activate(self, self.intercept_requests)
            if outermost and self.seed is not None:
                from ._seed import load_seed
                load_seed(self.seed, backend=_BACKEND, account_id=self.account_id,
                          region=self.region)
        return self

    def stop(self) -> None:
        with _stack_lock:
            if self not in _stack:
                raise RuntimeError("mock_kms.stop() called on an activation that is not active")
            # remove the innermost occurrence of this activation
            index = len(_stack) - 1 - _stack[::-1].index(self)
            del _stack[index]
            _restore_env(self._saved_env.pop())
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
        if callable(target):
            @functools.wraps(target)
            def wrapper(*args, **kwargs):
                with self:
                    return target(*args, **kwargs)
            return wrapper
        raise TypeError(f"mock_kms cannot decorate {target!r}")

    def _decorate_class(self, cls: type) -> type:
        mock = self
        is_testcase = issubclass(cls, unittest.TestCase)
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
                    mock.backend.restore(mock._snapshots[klass])
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
                setattr(cls, name, self(value))

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
                        mock._snapshots[klass] = mock.backend.snapshot()
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


def mock_kms(func=None, *, account_id: str = DEFAULT_ACCOUNT, region: str = DEFAULT_REGION,
             seed=None, intercept_requests: bool = True):
    """Mock AWS KMS in process.

    ``@mock_kms`` or ``@mock_kms(...)`` on a function, coroutine function or class;
    ``with mock_kms(...) as m:``; or ``m = mock_kms(); m.start(); ...; m.stop()``.
    """
    mock = MockKms(account_id=account_id, region=region, seed=seed,
                   intercept_requests=intercept_requests)
    if func is not None:
        return mock(func)
    return mock
