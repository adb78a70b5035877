"""Helpers shared by mockkms's own test modules (import them as ``from helpers import ...``;
fixtures stay in conftest.py)."""
from __future__ import annotations

import os
import subprocess
import sys


def error_of(excinfo) -> tuple[str, str]:
    """(code, message) of a botocore ClientError caught by pytest.raises."""
    err = excinfo.value.response["Error"]
    return err["Code"], err.get("Message", "")


class NetworkAttempt(ConnectionRefusedError):
    """Raised by the ``socket_guard`` fixture instead of touching the network."""


def hosts(attempts) -> set[str]:
    """The hosts that the attempts recorded by the ``socket_guard`` fixture tried to reach."""
    out = set()
    for _, args in attempts:
        for a in args:
            if isinstance(a, tuple) and a:
                out.add(str(a[0]))
            elif isinstance(a, str):
                out.add(a)
    return out


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_python(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh Python process from the repository root (nothing imported yet)."""
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
