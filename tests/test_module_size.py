"""Small modules with one job each: no module of the package (mockkms/, conftest_plugin/) is over
MAX_LINES lines. One that grows past it is split along its seams (CONTRIBUTING.md)."""
from __future__ import annotations

import pathlib

import conftest_plugin
import mockkms

MAX_LINES = 450


def _modules() -> dict[str, int]:
    """path (from the repository root) -> lines, for every module of the two packages."""
    out = {}
    for package in (mockkms, conftest_plugin):
        root = pathlib.Path(package.__file__).parent
        for path in sorted(root.rglob("*.py")):
            with open(path, encoding="utf-8") as f:
                out[str(path.relative_to(root.parent))] = sum(1 for _ in f)
    return out


def test_the_modules_are_found():
    modules = _modules()
    assert "mockkms/_dispatch.py" in modules and "conftest_plugin/plugin.py" in modules
    assert "mockkms/operations/keys.py" in modules      # subpackages too


def test_no_module_is_over_the_limit():
    over = {path: lines for path, lines in _modules().items() if lines > MAX_LINES}
    assert not over, (f"modules over {MAX_LINES} lines (split them along their seams): "
                      + ", ".join(f"{path} ({lines})" for path, lines in sorted(over.items())))
