"""Private names of other libraries are reached from ``_compat`` only."""

import ast
from pathlib import Path

import pytest
import torch
from torch import nn

import sklearn_ganomaly
from sklearn_ganomaly import _compat

PACKAGE = Path(sklearn_ganomaly.__file__).parent
LIBRARIES = {"sklearn", "torch", "skorch", "pyod"}
#: Private members of other libraries' objects (not modules) the package uses.
PRIVATE_MEMBERS = {
    "_orig_mod",
    "_set_training",
    "_set_n_classes",
    "_process_decision_scores",
    "_validate_params",
}


def _private(name):
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _private_uses(tree):
    """``(line, text)`` of each private name of LIBRARIES that ``tree`` reaches for."""
    library_names = set()  # local names bound to a module or object of LIBRARIES
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in LIBRARIES:
                    library_names.add((alias.asname or alias.name).split(".")[0])
                    if any(map(_private, alias.name.split("."))):
                        found.append((node.lineno, alias.name))
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            module = node.module or ""
            if module.split(".")[0] in LIBRARIES:
                for alias in node.names:
                    library_names.add(alias.asname or alias.name)
                    if any(map(_private, [*module.split("."), alias.name])):
                        found.append((node.lineno, f"{module}.{alias.name}"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            chain, root = [node.attr], node.value
            while isinstance(root, ast.Attribute):
                chain.append(root.attr)
                root = root.value
            from_library = isinstance(root, ast.Name) and root.id in library_names
            if (from_library and any(map(_private, chain))) or node.attr in PRIVATE_MEMBERS:
                found.append((node.lineno, node.attr))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            parts = node.value.split(".")
            dotted = len(parts) > 1 and parts[0] in LIBRARIES and all(map(str.isidentifier, parts))
            if node.value in PRIVATE_MEMBERS or (dotted and any(map(_private, parts))):
                # getattr(obj, "_orig_mod"), logging.getLogger("torch._internal")
                found.append((node.lineno, node.value))
    return found


def test_checker_finds_private_names():
    source = """
import torch
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval
from torch import nn
x = nn.modules.batchnorm._BatchNorm
y = getattr(module, "_orig_mod", module)
net._set_training(True)
self._own_private_method()
torch.__version__
logging.getLogger("torch.onnx._internal")
"""
    found = sorted(text for _, text in _private_uses(ast.parse(source)))
    assert found == [
        "_BatchNorm",
        "_orig_mod",
        "_set_training",
        "sklearn.base._fit_context",
        "sklearn.utils._param_validation.Interval",
        "torch.onnx._internal",
    ]


def test_only_compat_reaches_for_private_names():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "_compat.py":
            continue
        for line, text in _private_uses(ast.parse(path.read_text(), str(path))):
            offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {text}")
    assert not offenders, "private names outside _compat.py:\n" + "\n".join(offenders)


def test_batch_norm_types_cover_batch_norm_layers():
    assert isinstance(nn.BatchNorm2d(3), _compat.BATCH_NORM_TYPES)
    assert isinstance(nn.BatchNorm1d(3), _compat.BATCH_NORM_TYPES)
    assert not isinstance(nn.LayerNorm(3), _compat.BATCH_NORM_TYPES)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.compile's own
def test_uncompiled_unwraps_compiled_modules():
    module = nn.Linear(2, 2)
    assert _compat.uncompiled(module) is module
    assert _compat.uncompiled(torch.compile(module)) is module


class _NetWithoutHelper:
    """A skorch-like net that lacks skorch's ``_set_training``."""

    def __init__(self):
        self.module_ = nn.Linear(2, 2)
        self.discriminator_ = nn.Linear(2, 1)


@pytest.mark.parametrize("training", [True, False])
def test_set_training_falls_back_to_the_initialised_modules(training):
    net = _NetWithoutHelper()
    net.module_.train(not training)
    net.discriminator_.train(not training)
    _compat.set_training(net, training)
    assert net.module_.training is training
    assert net.discriminator_.training is training


class _EstimatorWithoutHelper:
    """An estimator that lacks scikit-learn's ``_validate_params``."""

    _parameter_constraints = {"n": [int]}

    def __init__(self, n):
        self.n = n

    def get_params(self, deep=False):
        return {"n": self.n}


def test_validate_params_falls_back_to_the_constraints():
    _compat.validate_params(_EstimatorWithoutHelper(3))
    with pytest.raises(ValueError, match="'n' parameter"):
        _compat.validate_params(_EstimatorWithoutHelper("three"))


def test_safe_indexing_takes_rows():
    assert _compat.safe_indexing([[1], [2], [3]], [2, 0]) == [[3], [1]]
