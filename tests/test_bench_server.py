"""benchmarks/bench_server.py's report: ``--quick`` judges nothing (a smoke run on a loaded
machine), a full run says yes or **NO** per target, and ``--write`` replaces only its own part of
docs/benchmarks.md. (The benchmark itself starts servers and runs for minutes: not a test.)"""
from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "bench_server", Path(__file__).resolve().parent.parent / "benchmarks" / "bench_server.py")
bench_server = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_server)

CHECKS = [("fast enough", "3.1×", True), ("small enough", "1.60 KiB", False)]


def test_verdicts():
    full = bench_server.report(["| a | b |"], CHECKS, quick=False)
    assert "| fast enough | 3.1× | yes |" in full and "| small enough | 1.60 KiB | **NO** |" in full
    quick = bench_server.report([], CHECKS, quick=True)
    assert quick.count("not judged in --quick") == 2 and "**NO**" not in quick


def test_write_replaces_only_its_own_part(tmp_path, monkeypatch):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nbench.py's part\n")
    monkeypatch.setattr(bench_server, "DOC", str(doc))
    bench_server.write("first")
    bench_server.write("second")
    text = doc.read_text()
    assert text.startswith("# Benchmarks\n\nbench.py's part\n")
    assert "second" in text and "first" not in text
    assert text.count(bench_server.HEAD) == text.count(bench_server.TAIL) == 1


def test_percentile():
    values = [float(i) for i in range(1, 101)]
    assert bench_server.percentile(values, 50) == 50.0
    assert bench_server.percentile(values, 99) == 99.0
    assert bench_server.percentile([3.0], 99) == 3.0
