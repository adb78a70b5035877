"""Every ```python block of README.md and docs/*.md runs as pasted, offline.

Each block is one test, named ``<file>:<line>``:

* A block that defines tests (``def test_…`` or ``class Test…``) is a test module: it is written to
  a file of its own and run by pytest, with the mockkms plugin's fixtures. All such blocks run in
  one in-process pytest session per worker (one import of the plugins, not one per block); each
  block's test checks its own module's outcome: it imported, it held tests, and all passed.
* Any other block is a script: it runs with ``exec`` in a fresh namespace.

A guard refuses and records every outbound connection or host-name lookup (loopback is allowed:
server-mode blocks talk to a local server), so a block that would reach AWS fails. A block that
talks to ``mockkms serve`` at ``127.0.0.1:4599`` gets a server started by the test, on a free
port written in place of 4599. A block that needs what one CI leg lacks (aiobotocore; ML-KEM, which
only botocore >= 1.44 models) is left out of that leg's collection, as tests/conftest.py leaves out
whole modules. Fences other than ```python (```sh, ```json, ```text) are not run.
"""
from __future__ import annotations

import importlib.util
import ipaddress
import re
import socket
import threading
from contextlib import contextmanager, nullcontext
from pathlib import Path

import botocore.session
import pytest

ROOT = Path(__file__).resolve().parent.parent
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SERVER = "127.0.0.1:4599"  # where the docs' `mockkms serve --port 4599` listens

_KMS_OPERATIONS = botocore.session.get_session().get_service_model("kms").operation_names
# what a block needs -> whether this environment has it (a block without it is not collected)
NEEDS = {
    "aiobotocore": importlib.util.find_spec("aiobotocore") is not None,
    "ML_KEM": "Encapsulate" in _KMS_OPERATIONS,
}


class Block:
    def __init__(self, path: Path, line: int, source: str):
        self.path, self.line, self.source = path, line, source
        self.name = f"{path.relative_to(ROOT)}:{line}"
        self.is_test_module = bool(re.search(r"^(async )?def test_|^class Test", source, re.M))
        # a file name pytest collects and can import: README.md:27 -> test_README_md_27.py
        self.module = "test_" + re.sub(r"\W", "_", self.name) + ".py"


def blocks() -> list[Block]:
    found = []
    for path in FILES:
        lines = path.read_text(encoding="utf-8").splitlines()
        start = None
        for number, line in enumerate(lines, 1):
            if start is None and line.strip() == "```python":
                start = number
            elif start is not None and line.strip() == "```":
                found.append(Block(path, start + 1, "\n".join(lines[start:number - 1]) + "\n"))
                start = None
    return found


BLOCKS = [b for b in blocks() if all(have or need not in b.source for need, have in NEEDS.items())]
TEST_MODULES = [b for b in BLOCKS if b.is_test_module]


def _loopback(host) -> bool:
    if host in (None, "localhost", b"localhost"):
        return True
    try:
        return ipaddress.ip_address(host.decode() if isinstance(host, bytes) else host).is_loopback
    except ValueError:
        return False


@contextmanager
def no_network():
    """Refuse (and record) every host-name lookup and connection that is not to loopback."""
    attempts: list = []
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def getaddrinfo(host, *args, **kwargs):
        if not _loopback(host):
            attempts.append(host)
            raise socket.gaierror(socket.EAI_NONAME, f"snippet guard: no network ({host})")
        return real_getaddrinfo(host, *args, **kwargs)

    def guarded(real):
        def connect(sock, address):
            if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
                attempts.append(address)
                raise ConnectionRefusedError(f"snippet guard: no network ({address})")
            return real(sock, address)
        return connect

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket, "getaddrinfo", getaddrinfo)
        mp.setattr(socket.socket, "connect", guarded(real_connect))
        mp.setattr(socket.socket, "connect_ex", guarded(real_connect_ex))
        yield attempts


@contextmanager
def local_server():
    """A mockkms server on a free loopback port; yields its ``host:port``."""
    from mockkms.server import make_app, make_server

    server = make_server(make_app(), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    try:
        yield server.url.split("://", 1)[1].rstrip("/")
    finally:
        server.shutdown()
        server.server_close()


class Reports:
    """pytest plugin: the reports of the inner session, by test module file."""

    def __init__(self):
        self.by_module: dict[str, list] = {}

    def pytest_collectreport(self, report):
        if report.failed:  # the block did not import
            self.by_module.setdefault(report.nodeid.split("::", 1)[0], []).append(report)

    def pytest_runtest_logreport(self, report):
        if report.when == "call" or not report.passed:
            self.by_module.setdefault(report.nodeid.split("::", 1)[0], []).append(report)


@pytest.fixture(scope="module")
def inner_session(tmp_path_factory):
    """Run every test-module block in one inner pytest session: ({module file: [reports]},
    network attempts)."""
    folder = tmp_path_factory.mktemp("doc_snippets")
    for block in TEST_MODULES:
        (folder / block.module).write_text(block.source, encoding="utf-8")
    reports = Reports()
    with no_network() as attempts:
        pytest.main([str(folder), "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                     "--import-mode=importlib", "--rootdir", str(folder)], plugins=[reports])
    return reports.by_module, attempts


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.name)
def test_block_runs(block, request):
    if block.is_test_module:
        by_module, attempts = request.getfixturevalue("inner_session")
        reports = by_module.get(block.module, [])
        bad = [r for r in reports if not r.passed]
        assert not bad, "\n\n".join(f"{r.nodeid} ({r.when}): {r.outcome}\n{r.longreprtext}"
                                     for r in bad)
        assert reports, f"{block.name}: pytest found no test in it"
        assert attempts == [], f"the test-module blocks tried to reach the network: {attempts}"
        return
    source = block.source
    with no_network() as attempts:
        with local_server() if SERVER in source else nullcontext() as address:
            if address:
                source = source.replace(SERVER, address)
            exec(compile(source, block.name, "exec"), {"__name__": "__snippet__"})
    assert attempts == [], f"{block.name} tried to reach the network: {attempts}"


def test_every_python_fence_is_a_block():
    fences = sum(p.read_text(encoding="utf-8").count("\n```python\n") for p in FILES)
    assert len(blocks()) == fences > 0
    collected = {b.name for b in BLOCKS}
    for block in blocks():  # a block is left out only for what this environment lacks
        assert block.name in collected or any(need in block.source and not have
                                              for need, have in NEEDS.items())


# names the docs give in backticks that are no module or attribute (logger names)
NOT_OBJECTS = {"mockkms.server.requests"}


def test_every_mockkms_name_in_the_docs_exists():
    """`mockkms.x.y` (or `mockkms.x:y`, a WSGI server's spelling) names a module or an
    attribute that exists: a reader can import what the docs name."""
    pattern = re.compile(r"`(mockkms(?:\.\w+)+(?::\w+)?)")
    names = {m.group(1) for p in FILES + [ROOT / "CONTRIBUTING.md"]
             for m in pattern.finditer(p.read_text(encoding="utf-8"))}
    assert "mockkms.server.application" in names  # README's WSGI application
    for name in sorted(names - NOT_OBJECTS):
        module, _, attribute = name.partition(":")
        parts = module.split(".") + ([attribute] if attribute else [])
        value = importlib.import_module("mockkms")
        for i, part in enumerate(parts[1:], 2):  # an attribute, else a submodule
            if not hasattr(value, part) and hasattr(value, "__path__"):
                try:
                    importlib.import_module(".".join(parts[:i]))
                except ModuleNotFoundError:
                    pass
            assert hasattr(value, part), f"the docs name {name}, which does not exist"
            value = getattr(value, part)


def test_the_guard_refuses_what_is_not_loopback():
    with no_network() as attempts:
        with pytest.raises(socket.gaierror):
            socket.getaddrinfo("kms.us-east-1.amazonaws.com", 443)
        with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
            sock.connect(("192.0.2.1", 443))
        with local_server() as address:  # loopback is allowed
            host, port = address.split(":")
            socket.create_connection((host, int(port)), timeout=5).close()
    assert attempts == ["kms.us-east-1.amazonaws.com", ("192.0.2.1", 443)]
