"""The package's layers: no import cycle among mockkms's modules, counting imports inside functions,
and the state layer never reaches the handlers.

The graph is read from the source (``ast``): ``import x``, ``from x import y`` and relative
imports, at module level and inside functions; not those under ``if TYPE_CHECKING:``, which
only type checkers run. Importing ``a.b.c`` also runs the packages
``a.b`` (not the root ``mockkms``, always loaded first, and not the importer's own packages).
The dispatcher loads handler modules by name from the catalogue (``importlib``): those edges are
added from the catalogue.
"""
from __future__ import annotations

import ast
import os

import mockkms
from mockkms import _catalogue

ROOT = os.path.dirname(os.path.abspath(mockkms.__file__))
PACKAGE = "mockkms"


def _modules() -> dict[str, str]:
    """module name -> file."""
    out = {}
    base = os.path.dirname(ROOT)
    for folder, _, files in os.walk(ROOT):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                module = os.path.relpath(path, base)[:-3].replace(os.sep, ".")
                out[module.removesuffix(".__init__")] = path
    return out


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _run_time_nodes(tree: ast.AST):
    """Every node of ``tree`` except the bodies of ``if TYPE_CHECKING:`` blocks."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if _is_type_checking(node):
            todo.extend(getattr(node, "orelse", []))
            continue
        todo.extend(ast.iter_child_nodes(node))


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    edges: dict[str, set[str]] = {m: set() for m in modules}

    def known(name: str | None) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    for module, path in modules.items():
        package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        targets: list[str] = []
        for node in _run_time_nodes(tree):  # every import, at module level or in a function
            if isinstance(node, ast.Import):
                targets += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                # ``from pkg import name``: the submodule pkg.name if there is one, else pkg
                targets += [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                            for a in node.names]
        for target in filter(None, map(known, targets)):
            if target == module or not target.startswith(PACKAGE):
                continue
            edges[module].add(target)
            parent = target.rpartition(".")[0]
            while parent != PACKAGE and parent:  # the packages that import runs first
                if module != parent and not module.startswith(parent + "."):
                    edges[module].add(parent)
                parent = parent.rpartition(".")[0]
    for row in _catalogue.OPERATIONS:  # the dispatcher's handler loading (importlib)
        edges["mockkms._dispatch"].add(f"mockkms.operations.{row.area}")
    return edges


def _find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle as [a, b, ..., a], or None."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(edges, WHITE)
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = GREY
        stack.append(node)
        for nxt in sorted(edges[node]):
            if colour[nxt] == GREY:
                return stack[stack.index(nxt):] + [nxt]
            if colour[nxt] == WHITE:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        colour[node] = BLACK
        return None

    for node in sorted(edges):
        if colour[node] == WHITE:
            found = visit(node)
            if found:
                return found
    return None


def _reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        for nxt in edges[node]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_the_graph_sees_function_level_and_relative_imports():
    edges = _graph()
    assert "mockkms._seed" in edges["mockkms._mock"]              # inside MockKms.start
    assert "mockkms._crypto.asymmetric" in edges["mockkms._material"]  # inside a function
    assert "mockkms._crypto" in edges["mockkms._material"]        # the package runs first
    assert "mockkms.operations.crypto" in edges["mockkms._dispatch"]  # from the catalogue
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert "mockkms._lifecycle" in edges["mockkms._seed"]         # at module level
    assert "mockkms._backend" not in edges["mockkms._seed"]       # if TYPE_CHECKING: only
    checking = ast.parse("if TYPE_CHECKING:\n    import a\nelse:\n    import b\nimport c\n")
    imported = {alias.name for node in _run_time_nodes(checking)
                if isinstance(node, ast.Import) for alias in node.names}
    assert imported == {"b", "c"}


def test_no_import_cycle():
    cycle = _find_cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


STATE_LAYER = ("mockkms._keys", "mockkms._records", "mockkms._store", "mockkms._keystate",
               "mockkms._catalogue", "mockkms._material", "mockkms._lifecycle",
               "mockkms._lookup", "mockkms._backend", "mockkms._grant_tokens")


def test_the_state_layer_never_reaches_the_handlers_or_the_dispatcher():
    edges = _graph()
    for module in STATE_LAYER:
        above = {m for m in _reachable(edges, module)
                 if m.startswith("mockkms.operations") or m in ("mockkms._dispatch",
                                                                 "mockkms._context",
                                                                 "mockkms._seed")}
        assert not above, f"{module} imports {sorted(above)}"


def test_handlers_do_not_import_the_dispatcher():
    edges = _graph()
    for module in edges:
        if module.startswith("mockkms.operations"):
            assert "mockkms._dispatch" not in _reachable(edges, module), module
