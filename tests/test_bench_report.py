"""benchmarks/bench.py's verdicts: ``--quick`` (CI's smoke run) judges only what holds however
loaded the machine is, and says so for the speed and memory targets instead of printing **NO**."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "bench", Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

SLOW_TABLE = {"DescribeKey": {"mockkms": 50.0, "floor": 100.0}}  # 0.5 × floor: a speed miss
MEMORY = "≤ 1.5 KiB (1,536 bytes) per symmetric key, with its CreateKey's call log entry"


def table(quick: bool, heavy: str = "", distinct: bool = True) -> dict:
    imports = {"boto3": 0.3, "boto3+mockkms": 0.32, "in_process": 0.02, "heavy": heavy}
    checks = bench.targets(SLOW_TABLE, {}, imports, {"state": 900.0, "call_log": 500.0},
                           {"seconds": 0.01, "distinct": distinct}, [100, 1000], False)
    rows = bench.target_table(checks, quick)
    return {row.split(" | ")[0].lstrip("| "): row.rsplit(" | ", 1)[1].rstrip(" |")
            for row in rows[3:]}


def test_quick_does_not_judge_speed():
    verdicts = table(quick=True)
    assert verdicts["DescribeKey: mockkms ≥ 1.0 × the before-send floor"] == "not judged in --quick"
    assert verdicts[MEMORY] == "not judged in --quick"
    assert verdicts["nothing heavy imported by `import mockkms`"] == "yes"
    assert verdicts["RSA_4096 key material real and distinct (made on first use)"] == "yes"
    assert "**NO**" not in verdicts.values()


@pytest.mark.parametrize("quick", [True, False])
def test_load_free_targets_are_judged_in_every_run(quick):
    verdicts = table(quick, heavy="cryptography", distinct=False)
    assert verdicts["nothing heavy imported by `import mockkms`"] == "**NO**"
    assert verdicts["RSA_4096 key material real and distinct (made on first use)"] == "**NO**"


def test_a_full_run_judges_speed():
    verdicts = table(quick=False)
    assert verdicts["DescribeKey: mockkms ≥ 1.0 × the before-send floor"] == "**NO**"
    assert verdicts["CreateKey (symmetric): mockkms ≥ 50 × moto"] == "n/a"  # moto not run
    assert verdicts[MEMORY] == "yes"


def test_ratios_within_repeats_are_what_is_judged():
    """A ratio is the median of the ratios within each repeat, not the ratio of medians."""
    samples = {"DescribeKey": {"mockkms": [100.0, 50.0, 120.0], "floor": [90.0, 60.0, 100.0]}}
    table, ratios = bench.summarize(samples)
    assert table["DescribeKey"] == {"mockkms": 100.0, "floor": 90.0}
    median, low, high = ratios["DescribeKey"]["floor"]
    assert (round(median, 3), round(low, 3), round(high, 3)) == (1.111, 0.833, 1.2)
    imports = {"boto3": 0.3, "boto3+mockkms": 0.32, "in_process": 0.02, "heavy": ""}
    checks = bench.targets(table, ratios, imports, {"state": 900.0, "call_log": 700.0},
                           {"seconds": 0.01, "distinct": True}, [100, 1000], False)
    verdicts = {what: (measured, met) for what, measured, met, _ in checks}
    assert verdicts["DescribeKey: mockkms ≥ 1.0 × the before-send floor"] == (
        "1.11 × floor (repeats 0.83–1.20)", True)
    assert verdicts[MEMORY] == ("1,600 bytes (900 + 700)", False)  # the log entry counts
