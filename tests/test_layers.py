"""The package's layers: no import cycle among mockkms's modules, counting imports inside functions,
the state layer never reaches the handlers, and each layer of CONTRIBUTING.md's table (read from
it) imports only the layers above it.

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
import re

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


# --- CONTRIBUTING.md's layer table ----------------------------------------------------------------
CONTRIBUTING = os.path.join(os.path.dirname(ROOT), "CONTRIBUTING.md")


def _layers() -> list[tuple[str, set[str]]]:
    """CONTRIBUTING.md's layers, top first: (name, its modules). A row names modules in
    backticks: ``_x`` (mockkms._x), ``dir/`` (the package and everything in it),
    ``dir/name.py``, ``dir/<area>.py`` (every module of dir), ``mockkms`` (the package itself);
    ``conftest_plugin/`` is outside the package. Any other backticked text is an error."""
    with open(CONTRIBUTING, encoding="utf-8") as f:
        text = f.read()
    section = text.split("\n## Layers\n", 1)[1].split("\n## ", 1)[0]
    modules = set(_modules())
    layers = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or cells[0] in ("layer", "---"):
            continue
        found: set[str] = set()
        for token in re.findall(r"`([^`]+)`", cells[1]):
            if token == "conftest_plugin/":
                continue
            if token.endswith(("/", "/<area>.py")):
                package = f"{PACKAGE}.{token.split('/')[0]}"
                named = {m for m in modules if m == package or m.startswith(package + ".")}
            else:
                name = token.removesuffix(".py").replace("/", ".")
                named = {PACKAGE if name == PACKAGE else f"{PACKAGE}.{name}"} & modules
            assert named, f"CONTRIBUTING.md's {cells[0]} layer names {token!r}: no such module"
            found |= named
        layers.append((cells[0], found))
    return layers


def _layer_of() -> dict[str, int]:
    """module -> the index of its layer (0: the top)."""
    return {module: index for index, (_, found) in enumerate(_layers()) for module in found}


def test_the_layer_table_names_every_module_once():
    layers = _layers()
    assert [name for name, _ in layers] == ["facts", "crypto", "catalogue", "records", "rules",
                                            "spine", "handlers", "front"]
    seen: dict[str, str] = {}
    for name, found in layers:
        for module in found:
            assert module not in seen, f"{module} is in the {seen[module]} and {name} layers"
            seen[module] = name
    assert sorted(set(_modules()) - set(seen)) == [], "modules the layer table does not name"
    assert seen["mockkms._dispatch"] == "spine" and seen["mockkms._decorate"] == "front"


def test_each_layer_imports_only_the_layers_above_it():
    """Every import, counting those inside functions, goes to the importer's layer or one above
    it; the one exception is the dispatcher loading the handlers (edges from the catalogue)."""
    edges = _graph()
    layer = _layer_of()
    names = [name for name, _ in _layers()]
    loaded = {f"mockkms.operations.{row.area}" for row in _catalogue.OPERATIONS}
    wrong = []
    for module, targets in edges.items():
        for target in targets:
            if module == "mockkms._dispatch" and target in loaded | {"mockkms.operations"}:
                continue  # the documented exception: handlers loaded by name
            if layer[target] > layer[module]:
                wrong.append(f"{module} ({names[layer[module]]}) imports {target} "
                             f"({names[layer[target]]})")
    assert wrong == []
