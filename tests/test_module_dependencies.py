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


@pytest.mark.parametrize("module", ["_persistence", "_schema"])
def test_model_files_do_not_reach_into_the_detector(module):
    # Persistence reads, writes and checks files; rebuilding a detector is
    # the estimator's module's job, with the constructor that fit uses.
    name = f"sklearn_ganomaly.{module}"
    assert "sklearn_ganomaly._detector" not in IMPORTS[name]
    # The estimator's module and the mixins it is built from.
    detector_sources = [
        MODULES[f"sklearn_ganomaly.{part}"].read_text(encoding="utf-8")
        for part in ("_detector", "_fitting", "_readout")
    ]
    # Private methods, and private attributes that the methods set on self.
    private = {a for a in dir(GANomalyDetector) if a.startswith("_") and not a.startswith("__")}
    private |= {
        node.attr
        for source in detector_sources
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute)
        and isinstance(node.ctx, ast.Store)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
        and node.attr.startswith("_")
    }
    assert {"_assemble_net", "_code_score"} <= private
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    used = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in private
    }
    assert not used, f"{module}.py uses the detector's private {sorted(used)}"
