"""``mockkms serve --workers N``: N server processes on one listening socket and one state
directory — the way a CI fleet on one machine shares one endpoint.

The parent process opens the state directory first (creating the database, migrating a JSON
state file, applying ``--seed`` on a first start), closes it, binds the listening socket, and
forks N worker processes. Each worker opens the state directory's database itself and serves the
inherited socket with its own threads (``--threads``); the kernel hands each new connection to
one of them. They share the state through the database (``mockkms._database``): every request
first applies what the other workers changed, writes serialize on SQLite's lock, and the secrets
that seal pagination markers and import tokens are the database's, so a marker or token from
one worker is good on every other.

The parent only supervises: a worker that dies is replaced, and a worker whose parent is gone
(killed with SIGKILL) stops by itself (one that dies within
``STARTUP`` seconds of its start, before serving, stops the whole server with exit code 1: it
could not open the state directory); SIGINT or SIGTERM stops every worker (SIGTERM, then
SIGKILL after ``STOP_TIMEOUT``) and exits 0. Each worker keeps its own call log.

A state directory is required: without one each worker would be a KMS of its own. Worker
processes need ``os.fork`` (not on Windows).
"""
from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
import traceback

from .._persist import StateDir, StateError
from .app import AppOptions, KmsApp, log_requests
from .connection import listening_socket
from .httpd import Limits, make_server
from .running import fail as _fail
from .running import prepare
from .running import run as _run
from .running import say as _say

STARTUP = 3.0        # seconds in which a worker that exits counts as one that could not start
STOP_TIMEOUT = 10.0  # seconds the workers get to stop before SIGKILL
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def serve_workers(count: int, app: KmsApp, host: str, port: int, state_dir: str | None,
                  seed: str | None, limits: Limits, options: AppOptions, *,
                  verbose: bool) -> int:
    """Run ``count`` worker processes until SIGINT/SIGTERM; the exit code. ``app``: the
    application (options ``options``) that prepares the state directory in this process."""
    if not hasattr(os, "fork"):
        return _fail("--workers needs os.fork, which this platform lacks; run one process")
    if state_dir is None:
        return _fail(f"--workers {count} needs --state-dir: worker processes share their state "
                     "through its database (without one, each would be a KMS of its own)")
    state = StateDir(state_dir, app.backend)
    try:
        loaded = state.open()
    except StateError as exc:
        return _fail(str(exc))
    try:
        error = prepare(app, state, loaded, seed)
    finally:
        state.close()  # before forking: no database connection, no thread crosses a fork
    if error:
        return _fail(error)
    try:
        sock = listening_socket(host, port)
    except OSError as exc:
        return _fail(f"cannot listen on {host}:{port}: {exc}")
    # what each worker builds its application with (a seed may have turned authorization off)
    app_options: AppOptions = {**options, "authorization": app.authorization}
    worker = {"limits": limits, "verbose": verbose, "app_options": app_options}
    try:
        return _Supervisor(count, sock, state.path, worker).run()
    finally:
        sock.close()


class _Supervisor:
    def __init__(self, count: int, sock: socket.socket, state_dir: str, options: dict) -> None:
        self.count = count
        self.sock = sock
        self.state_dir = state_dir
        self.options = options
        self.children: dict[int, tuple[int, float]] = {}  # pid -> (slot, start time)
        self.stop = threading.Event()

    def run(self) -> int:
        previous = {sig: signal.signal(sig, lambda signum, frame: self.stop.set())
                    for sig in _STOP_SIGNALS}
        try:
            for slot in range(self.count):
                self._spawn(slot)
            host, port = self.sock.getsockname()[:2]
            url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
            _say(f"state: {os.path.join(self.state_dir, 'mockkms-state.db')}")
            _say(f"serving AWS KMS at {url} with {self.count} worker processes "
                 "(Ctrl+C to stop)")
            code = self._watch()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if code == 0:
            _say("stopping")
        return code

    def _spawn(self, slot: int) -> None:
        # SIGINT/SIGTERM wait while forking: a child that got one before it leaves this
        # process's handler behind would ignore it (and live on until SIGKILL)
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        pid = os.fork()
        if pid == 0:  # the worker
            for sig in _STOP_SIGNALS:
                signal.signal(sig, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
            code = 1
            try:
                code = _worker(self.sock, self.state_dir, **self.options)
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        self.children[pid] = (slot, time.monotonic())

    def _watch(self) -> int:
        while not self.stop.wait(0.2):
            while self.children:
                pid, status = os.waitpid(-1, os.WNOHANG)
                if pid == 0 or pid not in self.children:
                    break
                slot, started = self.children.pop(pid)
                code = os.waitstatus_to_exitcode(status)
                if self.stop.is_set():
                    break
                if time.monotonic() - started < STARTUP and code == 1:
                    _say(f"worker {slot + 1} could not start; stopping", sys.stderr)
                    return 1
                _say(f"worker {slot + 1} (pid {pid}) exited with code {code}; starting another",
                     sys.stderr)
                self._spawn(slot)
        return 0

    def _stop_all(self) -> None:
        for pid in self.children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + STOP_TIMEOUT
        while self.children and time.monotonic() < deadline:
            pid, _ = os.waitpid(-1, os.WNOHANG)
            if pid:
                self.children.pop(pid, None)
            else:
                time.sleep(0.05)
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self.children.pop(pid, None)


def _orphan_watch(parent: int) -> None:
    """Stop this worker (as SIGTERM does) if the supervisor is gone (killed with SIGKILL):
    workers never outlive it."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGTERM)


def _worker(sock: socket.socket, state_dir: str, *, limits: Limits, verbose: bool,
            app_options: AppOptions) -> int:
    """One worker process: its own backend over the shared database, serving ``sock``."""
    threading.Thread(target=_orphan_watch, args=(os.getppid(),), daemon=True,
                     name="mockkms-parent-watch").start()
    app = KmsApp(**app_options)
    if verbose:
        log_requests()
    state = StateDir(state_dir, app.backend)
    try:
        state.open()
    except StateError as exc:
        return _fail(str(exc))
    app.state = state
    try:
        server = make_server(app, sock=sock, **limits)
        return _run(server, state, quiet=True)
    finally:
        state.close()
