"""What one serving process does, for ``mockkms serve`` (``cli``) and each of its worker
processes (``workers``): say what happens, prepare the state directory (apply ``--seed`` on a
first start), serve until SIGINT/SIGTERM."""
from __future__ import annotations

import signal
import sys
import threading
from typing import IO, TYPE_CHECKING, Any

from .app import KmsApp

if TYPE_CHECKING:
    from .._persist import StateDir
    from .httpd import Server


def say(message: str, stream: IO[str] | None = None) -> None:
    try:
        print(f"mockkms: {message}", file=stream or sys.stdout, flush=True)
    except (OSError, ValueError):  # nobody reads our output any more: keep going quietly
        pass


def fail(message: str) -> int:
    say(message, sys.stderr)
    return 1


def prepare(app: KmsApp, state: StateDir | None, loaded: bool, seed: str | None) -> str | None:
    """Say what the state directory held, apply the seed's settings, and the seed itself on a
    first start; an error message if the seed cannot be applied."""
    file = state.file if state is not None else None  # ``loaded``: a state directory's
    if state is not None and state.migrated:
        say(f"migrated the state file of mockkms 0.1 into {file} (the file is kept as "
            f"{state.migrated})")
    if loaded:
        keys = sum(len(s.keys) for s in app.backend.stores.values())
        say(f"loaded {keys} key(s) from {file}")
    if seed is not None:
        error = _seed_settings(seed, app)
        if error:
            return error
        if loaded:
            say(f"--seed {seed} not applied: {file} already holds state")
        else:
            error = _load_seed(seed, app)
            if error:
                return error
            if state is not None:
                state.save_all()
    return None


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
    say(f"seeded {keys} key(s) from {path}")
    return None


def run(server: Server, state: StateDir | None, quiet: bool = False) -> int:
    """Serve until SIGINT/SIGTERM (``quiet``: a worker process, which says nothing)."""
    stop = threading.Event()
    previous = {}

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              name="mockkms-server", daemon=True)
    thread.start()
    try:
        if not quiet:
            where = state.file if state is not None else "in memory only"
            say(f"state: {where}")
            say(f"serving AWS KMS at {server.url} (Ctrl+C to stop)")
        while not stop.wait(0.5):
            if not thread.is_alive():
                return fail("the server thread stopped unexpectedly")
        if not quiet:
            say("stopping")
        return 0
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
