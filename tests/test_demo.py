"""The README's demo command works."""
import subprocess
import sys


def test_demo_runs():
    out = subprocess.run([sys.executable, "-m", "mockkms", "demo"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "DisabledException" in out.stdout and "b'secret'" in out.stdout
