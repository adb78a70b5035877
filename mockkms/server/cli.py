"""``mockkms serve``: load the state directory and the seed, serve until SIGINT/SIGTERM, flush.

Output: progress lines on stdout, the last one at start ``mockkms: serving AWS KMS at <URL>``
(printed once the socket listens; with ``--port 0`` it carries the port the system chose).
Errors go to stderr. Exit codes: 0 after SIGINT/SIGTERM, 1 when the state directory, the seed
file or the listening socket cannot be used, 2 for a ``region`` that does not exist (the command
line refuses it before: exit code 2 too).

With both ``--state-dir`` and ``--seed``, the seed is applied only when the state directory holds
no state yet (the first start); later starts load the saved state (registered principals
included) and say the seed was skipped. A seed's ``"Authorization": false`` turns evaluation off
on every start (as ``--no-authorization``).
"""
from __future__ import annotations

import signal
import sys
import threading

from .._mock import DEFAULT_REGION
from .._persist import StateDir, StateError
from .app import CALL_LOG, KmsApp, log_requests
from .httpd import DEFAULTS, make_server


def _say(message: str, stream=None) -> None:
    try:
        print(f"mockkms: {message}", file=stream or sys.stdout, flush=True)
    except (OSError, ValueError):  # nobody reads our output any more: keep going quietly
        pass


def _fail(message: str) -> int:
    _say(message, sys.stderr)
    return 1


def serve_forever(host: str = "127.0.0.1", port: int = 4599, state_dir: str | None = None,
                  seed: str | None = None, *, region: str = DEFAULT_REGION,
                  request_timeout: float = DEFAULTS["request_timeout"],
                  idle_timeout: float = DEFAULTS["idle_timeout"],
                  workers: int = DEFAULTS["workers"],
                  max_connections: int = DEFAULTS["max_connections"],
                  call_log_size: int = CALL_LOG, allowed_hosts=(), verbose: bool = False,
                  authorization: bool = True) -> int:
    """Serve KMS over HTTP until SIGINT or SIGTERM; the process exit code. The options are
    those of ``mockkms serve`` (``mockkms serve --help``)."""
    try:
        app = KmsApp(region=region, call_log_size=call_log_size, allowed_hosts=allowed_hosts,
                     authorization=authorization)
    except ValueError as exc:  # a region that does not exist: a usage error, as argparse's
        _say(f"--region: {exc}", sys.stderr)
        return 2
    if verbose:
        log_requests()
    limits = {"request_timeout": request_timeout, "idle_timeout": idle_timeout,
              "workers": workers, "max_connections": max_connections}
    state = None
    loaded = False
    if state_dir is not None:
        state = StateDir(state_dir, app.backend)
        try:
            loaded = state.open()
        except StateError as exc:
            return _fail(str(exc))
        app.state = state
    try:
        code = _start(app, state, loaded, seed, host, port, limits)
    except BaseException:
        if state is not None:
            state.close()
        raise
    if state is not None:
        try:
            state.close()
        except Exception as exc:
            return _fail(f"could not save state to {state.file}: {exc}")
    return code


def _start(app, state, loaded, seed, host, port, limits) -> int:
    if loaded:
        keys = sum(len(s.keys) for s in app.backend.stores.values())
        _say(f"loaded {keys} key(s) from {state.file}")
    if seed is not None:
        error = _seed_settings(seed, app)
        if error:
            return _fail(error)
        if loaded:
            _say(f"--seed {seed} not applied: {state.file} already holds state")
        else:
            error = _load_seed(seed, app)
            if error:
                return _fail(error)
            if state is not None:
                state.changed()
    try:
        server = make_server(app, host, port, **limits)
    except OSError as exc:
        return _fail(f"cannot listen on {host}:{port}: {exc}")
    return _run(server, state)


def _seed_settings(path: str, app: KmsApp) -> str | None:
    """Apply the seed's settings (``Authorization``) to ``app``; an error message, or None."""
    from .._seed import settings
    try:
        if settings(path).get("Authorization") is False:
            app.authorization = False
    except Exception as exc:
        return f"cannot load seed file {path}: {exc}"
    return None


def _load_seed(path: str, app: KmsApp) -> str | None:
    try:
        from .._seed import load_seed
    except ImportError:
        return "--seed is not available: this mockkms has no seed loader (mockkms._seed)"
    try:
        load_seed(path, backend=app.backend, account_id=app.account_id, region=app.region)
    except Exception as exc:
        return f"cannot load seed file {path}: {exc}"
    keys = sum(len(s.keys) for s in app.backend.stores.values())
    _say(f"seeded {keys} key(s) from {path}")
    return None


def _run(server, state) -> int:
    stop = threading.Event()
    previous = {}

    def on_signal(signum, frame):
        stop.set()

    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              name="mockkms-server", daemon=True)
    thread.start()
    try:
        where = state.file if state is not None else "in memory only"
        _say(f"state: {where}")
        _say(f"serving AWS KMS at {server.url} (Ctrl+C to stop)")
        while not stop.wait(0.5):
            if not thread.is_alive():
                return _fail("the server thread stopped unexpectedly")
        _say("stopping")
        return 0
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
