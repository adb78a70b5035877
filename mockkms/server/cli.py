"""``mockkms serve``: load the state directory and the seed, serve until SIGINT/SIGTERM, flush.
With ``--workers N`` (N > 1), ``workers`` runs N processes on one listening socket instead.

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

import sys
from collections.abc import Iterable

from .._mock import DEFAULT_REGION
from .._persist import StateDir, StateError
from .app import CALL_LOG, AppOptions, KmsApp, log_requests
from .httpd import DEFAULTS, Limits, make_server
from .running import fail as _fail
from .running import prepare
from .running import run as _run
from .running import say as _say


def serve_forever(host: str = "127.0.0.1", port: int = 4599, state_dir: str | None = None,
                  seed: str | None = None, *, region: str = DEFAULT_REGION,
                  request_timeout: float = DEFAULTS["request_timeout"],
                  idle_timeout: float = DEFAULTS["idle_timeout"],
                  threads: int = DEFAULTS["threads"],
                  max_connections: int = DEFAULTS["max_connections"],
                  call_log_size: int = CALL_LOG, allowed_hosts: Iterable[str] = (),
                  verbose: bool = False,
                  authorization: bool = True, workers: int = 1) -> int:
    """Serve KMS over HTTP until SIGINT or SIGTERM; the process exit code. The options are
    those of ``mockkms serve`` (``mockkms serve --help``)."""
    options: AppOptions = {"region": region, "call_log_size": call_log_size,
               "allowed_hosts": allowed_hosts, "authorization": authorization}
    try:
        app = KmsApp(**options)
    except ValueError as exc:  # a region that does not exist: a usage error, as argparse's
        _say(f"--region: {exc}", sys.stderr)
        return 2
    limits: Limits = {"request_timeout": request_timeout, "idle_timeout": idle_timeout,
              "threads": threads, "max_connections": max_connections}
    if workers > 1:
        from .workers import serve_workers
        return serve_workers(workers, app, host, port, state_dir, seed, limits, options,
                             verbose=verbose)
    if verbose:
        log_requests()
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


def _start(app: KmsApp, state: StateDir | None, loaded: bool, seed: str | None, host: str,
           port: int, limits: Limits) -> int:
    error = prepare(app, state, loaded, seed)
    if error:
        return _fail(error)
    try:
        server = make_server(app, host, port, **limits)
    except OSError as exc:
        return _fail(f"cannot listen on {host}:{port}: {exc}")
    return _run(server, state)
