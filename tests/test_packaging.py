"""The declared dependency minimums are the versions the oldest test run uses."""

from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+
requirements = pytest.importorskip("packaging.requirements")

ROOT = Path(__file__).resolve().parent.parent


def _pins():
    lines = (ROOT / "requirements-oldest.txt").read_text().splitlines()
    pins = [requirements.Requirement(line) for line in lines if line and not line[0] == "#"]
    return {pin.name: str(pin.specifier) for pin in pins}


def test_minimums_are_the_oldest_tested_versions():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [requirements.Requirement(r) for r in project["dependencies"]]
    minimums = {r.name: str(r.specifier).replace(">=", "==") for r in declared}
    assert minimums == _pins()


def test_package_ships_its_type_hints_marker():
    assert (ROOT / "sklearn_ganomaly" / "py.typed").is_file()
