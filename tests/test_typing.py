"""The public API is typed for its users' type checkers: every public function and method has
annotations for all its parameters and its return, and the package ships ``py.typed`` (PEP 561).
mypy checks the annotations themselves (pyproject.toml, run by .ci/run)."""
from __future__ import annotations

import ast
import configparser
import inspect
import pathlib

import pytest

import conftest_plugin.plugin
import mockkms
import mockkms.server
from mockkms import MockKms
from mockkms._authz.handles import IamPrincipal

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _unannotated(fn) -> list[str]:
    """The parameters (and ``return``) of ``fn`` that have no annotation."""
    missing = [name for name, p in inspect.signature(fn).parameters.items()
               if name not in ("self", "cls") and p.annotation is inspect.Parameter.empty]
    if "return" not in fn.__annotations__ and fn.__name__ != "__init__":
        missing.append("return")
    return missing


def _methods(cls: type, prefix: str):
    """The public methods and properties of ``cls`` (and its special ones users call)."""
    for name, value in vars(cls).items():
        if name.startswith("_") and name not in ("__init__", "__enter__", "__exit__", "__call__"):
            continue
        if isinstance(value, property):
            yield f"{prefix}.{name}", value.fget
        elif isinstance(value, (staticmethod, classmethod)):
            yield f"{prefix}.{name}", value.__func__
        elif inspect.isfunction(value):
            yield f"{prefix}.{name}", value


def _public_functions():
    for module in (mockkms, mockkms.server):
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isfunction(value):
                yield f"{module.__name__}.{name}", value
            elif inspect.isclass(value) and not issubclass(value, BaseException):
                yield from _methods(value, f"{module.__name__}.{name}")
    yield from _methods(MockKms, "MockKms")
    yield from _methods(IamPrincipal, "IamPrincipal")  # what MockKms.principal returns


@pytest.mark.parametrize("name,fn", list(_public_functions()),
                         ids=[name for name, _ in _public_functions()])
def test_public_function_is_annotated(name, fn):
    assert _unannotated(fn) == [], f"{name} lacks annotations"


def test_the_public_functions_are_found():
    names = {name for name, _ in _public_functions()}
    assert {"mockkms.mock_kms", "mockkms.load_seed", "MockKms.__init__", "MockKms.start",
            "MockKms.stop", "MockKms.advance", "MockKms.calls", "MockKms.__call__",
            "MockKms.principal"} <= names
    assert {"mockkms.server.make_app", "mockkms.server.make_server",
            "mockkms.server.serve_forever", "mockkms.server.KmsApp.__init__",
            "mockkms.server.KmsApp.__call__", "IamPrincipal.client", "IamPrincipal.assume",
            "IamPrincipal.credentials", "IamPrincipal.__init__"} <= names


def test_plugin_functions_are_annotated():
    # the fixtures are wrapped by pytest: their source says what the user's checker sees
    tree = ast.parse(pathlib.Path(conftest_plugin.plugin.__file__).read_text())
    functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]
    assert {"kms_mock", "kms_client", "kms_key"} <= {f.name for f in functions}
    for f in functions:
        args = f.args.posonlyargs + f.args.args + f.args.kwonlyargs
        args += [a for a in (f.args.vararg, f.args.kwarg) if a is not None]
        assert all(a.annotation is not None for a in args), f"{f.name}: unannotated argument"
        assert f.returns is not None, f"{f.name}: no return annotation"


def test_py_typed_is_shipped():
    assert (pathlib.Path(mockkms.__file__).parent / "py.typed").is_file()
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    assert cfg["options.package_data"]["mockkms"].split() == ["py.typed"]
