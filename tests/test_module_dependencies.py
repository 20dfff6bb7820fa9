"""The package's modules depend on each other in one direction.

Imports are read from the source with ``ast``, wherever they stand: at module
level, inside functions, and under ``if TYPE_CHECKING``. A function-local
import still ties the two modules together; it only hides the cycle until the
function runs.
"""

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest
from sklearn.base import BaseEstimator

from sklearn_ganomaly import GANomalyDetector

PACKAGE = Path(__file__).resolve().parent.parent / "sklearn_ganomaly"


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imported_modules(name):
    """The package's modules that module ``name`` imports anywhere in its source.

    ``from . import x`` imports the module ``x`` when there is one, and
    otherwise the package ``__init__`` that defines the name ``x``. The
    parent packages that Python initialises before any submodule are left
    out: they are always under way when the submodule runs.
    """
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    imported = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                imported.add(submodule if submodule in MODULES else source)
    return (imported & set(MODULES)) - {name}


IMPORTS = {name: _imported_modules(name) for name in MODULES}


def test_the_parser_sees_function_local_and_relative_imports():
    assert "sklearn_ganomaly._onnx" in IMPORTS["sklearn_ganomaly._detector"]  # in a method
    assert "sklearn_ganomaly._persistence" in IMPORTS["sklearn_ganomaly._detector"]
    assert "sklearn_ganomaly.datasets._image_folder" in IMPORTS["sklearn_ganomaly.cli"]
    assert "sklearn_ganomaly.plotting" in IMPORTS["sklearn_ganomaly.cli"]  # from . import
    assert "sklearn_ganomaly" in IMPORTS["sklearn_ganomaly.cli"]  # GANomalyDetector, ...


def test_no_import_cycle():
    try:
        tuple(TopologicalSorter(IMPORTS).static_order())
    except CycleError as error:
        pytest.fail(f"import cycle: {' -> '.join(error.args[1])}")


def test_no_module_uses_the_detectors_private_names():
    # Every other module works with a detector through its public fitted
    # attributes; rebuilding one (load) uses the functions fit uses.
    detector_source = MODULES["sklearn_ganomaly._detector"].read_text(encoding="utf-8")
    # scikit-learn's own hooks (_parameter_constraints, ...) are its protocol, not ours.
    sklearn_hooks = set(dir(BaseEstimator)) | {"_parameter_constraints"}
    private = {a for a in dir(GANomalyDetector) if a.startswith("_") and not a.startswith("__")}
    private -= sklearn_hooks
    private |= {
        node.attr
        for node in ast.walk(ast.parse(detector_source))
        if isinstance(node, ast.Attribute)
        and isinstance(node.ctx, ast.Store)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
        and node.attr.startswith("_")
    }
    assert {"_run", "_continue_fit", "_set_fitted"} <= private
    for name, path in MODULES.items():
        if name == "sklearn_ganomaly._detector":
            continue
        used = {
            node.attr
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Attribute) and node.attr in private
        }
        assert not used, f"{name} uses the detector's private {sorted(used)}"


def _private_uses(name):
    """Private names of other package modules that module ``name`` imports or reaches for."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules, found = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            source = f"{base}.{node.module}" if node.module else base
            for alias in node.names:
                if f"{source}.{alias.name}" in MODULES:
                    modules.add(alias.asname or alias.name)
                elif alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"from {source} import {alias.name}")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{node.value.id}.{node.attr}")
    return found


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_imports_another_modules_private_names(name):
    assert not _private_uses(name), f"{name}: {_private_uses(name)}"


def test_the_private_name_check_sees_imports_and_attributes(tmp_path, monkeypatch):
    source = "from ._checks import _helper\nfrom . import plotting\nplotting._figure((1, 1))\n"
    monkeypatch.setitem(MODULES, "sklearn_ganomaly._fake", tmp_path / "_fake.py")
    (tmp_path / "_fake.py").write_text(source)
    assert _private_uses("sklearn_ganomaly._fake") == [
        "from sklearn_ganomaly._checks import _helper",
        "plotting._figure",
    ]


#: Modules that hold one concept each (the middle floor between the estimator
#: and the networks) stay small; so does every other module but the estimator's.
MIDDLE_FLOOR_LINES = 450
MODULE_LINES = 600


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_small(name):
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    if name == "sklearn_ganomaly._detector":
        return
    limit = MIDDLE_FLOOR_LINES if name.rpartition(".")[2].startswith("_") else MODULE_LINES
    assert lines <= limit, f"{name} has {lines} lines, over {limit}"
