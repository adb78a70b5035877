"""How ``mock_kms`` decorates: functions, coroutine functions, generators (a pytest yield
fixture: active from its setup to its teardown) and async generators run inside the mock; plain
classes get their ``test*`` methods wrapped, with ``setup_method`` starting the activation that
the test and ``teardown_method`` share; ``unittest.TestCase`` classes are started once in
``setUpClass`` and every test method starts from the state ``setUpClass`` left
(``capture``/``reinstate``); subclasses defined later are wrapped as they are created.
"""
from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import AsyncGenerator, Generator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._backend import Backend
    from ._mock import MockKms

# plain classes: pytest's setup_method starts the activation that the test method and
# teardown_method share; a test method called without setup_method gets its own.
_INSTANCE_FLAG = "_mockkms_activation"


def decorate(mock: MockKms, target: Any) -> Any:
    """What ``mock(target)`` returns: a wrapper that runs ``target`` inside ``mock``, or the
    class ``target`` with its tests and hooks wrapped."""
    if inspect.isclass(target):
        return _decorate_class(mock, target)
    if inspect.iscoroutinefunction(target):
        @functools.wraps(target)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            with mock:
                return await target(*args, **kwargs)
        return async_wrapper
    if inspect.isgeneratorfunction(target):
        # active from the first next() until the generator finishes or is closed (a pytest
        # yield fixture: its setup, the test and its teardown)
        @functools.wraps(target)
        def generator_wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
            with mock:
                return (yield from target(*args, **kwargs))
        return generator_wrapper
    if inspect.isasyncgenfunction(target):
        @functools.wraps(target)
        async def async_generator_wrapper(*args: Any,
                                          **kwargs: Any) -> AsyncGenerator[Any, Any]:
            with mock:
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
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with mock:
                return target(*args, **kwargs)
        return wrapper
    raise TypeError(f"mock_kms cannot decorate {target!r}")


def _decorate_class(mock: MockKms, cls: type) -> type:
    # the user's class itself gets new hooks (__init_subclass__, a TestCase's run)
    patched: Any = cls
    is_testcase = _is_testcase(cls)
    _wrap_members(mock, cls, is_testcase)
    original_init_subclass = cls.__dict__.get("__init_subclass__")

    def __init_subclass__(subclass: type[Any], **kwargs: Any) -> None:
        if original_init_subclass is not None:
            original_init_subclass.__func__(subclass, **kwargs)
        else:
            super(patched, subclass).__init_subclass__(**kwargs)
        _wrap_members(mock, subclass, is_testcase)
    patched.__init_subclass__ = classmethod(__init_subclass__)

    if is_testcase:
        original_run = patched.run

        def run(test: Any, result: Any = None) -> Any:
            klass = type(test)
            if klass in mock._class_started:
                reinstate(mock.backend, mock._snapshots[klass])
                return original_run(test, result)
            with mock:  # run outside setUpClass (e.g. a single test): fresh state
                return original_run(test, result)
        patched.run = functools.wraps(original_run)(run)
    return cls


def _wrap_members(mock: MockKms, cls: type, is_testcase: bool) -> None:
    if is_testcase:
        _wrap_class_hook(mock, cls, "setUpClass", setup=True)
        _wrap_class_hook(mock, cls, "tearDownClass", setup=False)
        return
    for name, value in list(vars(cls).items()):
        if name.startswith("test") and inspect.isfunction(value):
            setattr(cls, name, _method(mock, value))
    _wrap_method_hook(mock, cls, "setup_method", setup=True)
    _wrap_method_hook(mock, cls, "teardown_method", setup=False)


def _method(mock: MockKms, fn: Any) -> Any:
    flag = _INSTANCE_FLAG
    wrapped = mock(fn)
    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def async_method(instance: Any, *args: Any, **kwargs: Any) -> Any:
            if instance.__dict__.get(flag) is mock:
                return await fn(instance, *args, **kwargs)
            return await wrapped(instance, *args, **kwargs)
        return async_method

    @functools.wraps(fn)
    def method(instance: Any, *args: Any, **kwargs: Any) -> Any:
        if instance.__dict__.get(flag) is mock:
            return fn(instance, *args, **kwargs)
        return wrapped(instance, *args, **kwargs)
    return method


def _wrap_method_hook(mock: MockKms, cls: type, name: str, setup: bool) -> None:
    flag = _INSTANCE_FLAG
    own = cls.__dict__.get(name)

    def call_own(instance: Any, args: tuple) -> Any:
        fn = own.__get__(instance) if own is not None else \
            getattr(super(cls, instance), name, None)
        if fn is None:
            return None
        return fn(*args) if _takes_argument(fn) else fn()  # pytest's own rule

    def hook(instance: Any, *args: Any) -> Any:
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
    # two arguments: pytest passes ``method``
    def method_hook(instance: Any, method: Any = None) -> Any:
        return hook(instance, method)
    method_hook.__name__ = name
    method_hook.__qualname__ = f"{cls.__qualname__}.{name}"
    setattr(cls, name, method_hook)


def _wrap_class_hook(mock: MockKms, cls: type, name: str, setup: bool) -> None:
    own = cls.__dict__.get(name)

    def hook(klass: type) -> None:
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
                    mock._snapshots[klass] = capture(mock.backend)
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


def _is_testcase(cls: type) -> bool:
    """Whether ``cls`` is a ``unittest.TestCase``. unittest is not imported for this (it costs
    import time): a TestCase subclass exists only if unittest was imported already."""
    unittest = sys.modules.get("unittest")
    return unittest is not None and issubclass(cls, unittest.TestCase)


def _takes_argument(fn: Any) -> bool:
    """Whether pytest would pass ``method`` to this setup_method/teardown_method."""
    code = getattr(fn, "__code__", None)
    if code is None or code.co_flags & inspect.CO_VARARGS:
        return True
    return code.co_argcount - (1 if inspect.ismethod(fn) else 0) > 0


def capture(backend: Backend) -> tuple:
    """Everything a TestCase method must start from: state, call log and clock."""
    return backend.snapshot(), list(backend.calls), backend.clock._offset


def reinstate(backend: Backend, captured: tuple) -> None:
    """Put back what ``capture`` took."""
    snapshot, calls, offset = captured
    with backend.lock:
        backend.restore(snapshot)
        backend.calls[:] = calls
        backend.clock._offset = offset
