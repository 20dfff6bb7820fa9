"""The benchmark runner: same splits for every detector, reports, reproducibility."""

import json

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("pyod")
pytest.importorskip("matplotlib")

from sklearn_ganomaly import GANomalyDetector, benchmark, plotting  # noqa: E402
from sklearn_ganomaly.datasets import load_digits_images  # noqa: E402

TINY = dict(width=8, latent_dim=8, n_epochs=1, device="cpu")


@pytest.fixture(scope="module")
def digits_subset():
    X, y = load_digits_images()
    keep = np.isin(y, [0, 1, 7])
    return X[keep], y[keep]


def _run(X, y):
    return benchmark.run_benchmark(
        X,
        y,
        classes=[0, 1],
        seeds=[0, 1],
        detectors=["GANomaly", "LOF"],
        ganomaly_params=TINY,
        progress=False,
    )


def test_records_cover_every_detector_class_and_seed(digits_subset):
    records, _ = _run(*digits_subset)
    assert len(records) == 2 * 2 * 2
    keys = {(r["detector"], r["class"], r["seed"]) for r in records}
    assert len(keys) == 8
    for r in records:
        assert 0 <= r["auc"] <= 1 and 0 <= r["ap"] <= 1
        assert r["fit_s"] > 0 and r["score_s"] > 0
    # Both detectors saw the same split for a given (class, seed).
    for c in (0, 1):
        sizes = {(r["n_train"], r["n_test"]) for r in records if r["class"] == c}
        assert len(sizes) == 1


def test_same_arguments_same_numbers(digits_subset):
    first, _ = _run(*digits_subset)
    second, _ = _run(*digits_subset)
    assert [r["auc"] for r in first] == [r["auc"] for r in second]


def test_report_folder(tmp_path, digits_subset):
    records, artefacts = _run(*digits_subset)
    config = dict(dataset="digits", classes=[0, 1], seeds=[0, 1], detectors=["GANomaly", "LOF"])
    table = benchmark.write_report(tmp_path, records, artefacts, command="test", config=config)
    assert "GANomaly" in table and "± " in table
    report = (tmp_path / "report.md").read_text()
    assert "| LOF |" in report
    saved = json.loads((tmp_path / "results.json").read_text())
    assert len(saved["records"]) == 8
    figures = ("roc_class0.png", "ganomaly_scores.png", "ganomaly_reconstructions.png")
    for name in (*figures, "ganomaly_extremes.png"):
        with Image.open(tmp_path / name) as image:
            assert image.size[0] > 100


def test_cli_runs_and_prints_the_table(tmp_path, capsys):
    code = benchmark.main(
        [
            "--dataset",
            "digits",
            "--classes",
            "1",
            "--seeds",
            "0",
            "--detectors",
            "GANomaly,IForest",
            "--epochs",
            "1",
            "--out",
            str(tmp_path),
            "--no-figures",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "| IForest |" in out and "report.md" in out
    assert (tmp_path / "results.json").exists()


def test_unknown_detector_is_refused(digits_subset):
    with pytest.raises(ValueError, match="Unknown detector"):
        benchmark.run_benchmark(
            *digits_subset, classes=[0], seeds=[0], detectors=["Nope"], progress=False
        )


@pytest.mark.parametrize("name", benchmark.PYOD_DETECTORS)
def test_every_listed_pyod_detector_can_be_built(name):
    # Constructing is cheap and catches keyword mismatches with the installed PyOD.
    detector = benchmark.make_pyod_detector(name, 0, 64)
    assert hasattr(detector, "fit") and hasattr(detector, "decision_function")


def test_autoencoder_skips_per_pixel_z_scoring():
    assert benchmark.make_pyod_detector("AutoEncoder", 0, 64).preprocessing is False


def test_pyod_fits_are_seeded_without_touching_global_generators(digits_subset):
    import random

    import torch

    X, y = digits_subset
    states = np.random.get_state()[1].copy(), random.getstate(), torch.get_rng_state()
    # ALAD takes no random_state: only the scoped global seeding makes it repeatable.
    runs = [
        benchmark.run_benchmark(X, y, classes=[0], seeds=[3], detectors=["ALAD"], progress=False)[
            0
        ][0]["auc"]
        for _ in range(2)
    ]
    assert runs[0] == runs[1]
    np.testing.assert_array_equal(np.random.get_state()[1], states[0])
    assert random.getstate() == states[1]
    assert torch.equal(torch.get_rng_state(), states[2])


def test_paper_configuration_runs_beside_the_defaults(digits_subset, monkeypatch):
    # A small stand-in for PAPER_CONFIG keeps the test fast; the wiring is what counts.
    small_paper = dict(score_method="latent", width=4, latent_dim=4, n_epochs=1)
    X, y = digits_subset
    records, artefacts = benchmark.run_benchmark(
        X,
        y,
        classes=[0],
        seeds=[0],
        detectors=["GANomaly-paper"],
        ganomaly_params={"device": "cpu", "width": 999},
        progress=False,
        paper_params=small_paper,
    )
    assert [r["detector"] for r in records] == ["GANomaly-paper"]
    assert 0 <= records[0]["auc"] <= 1 and records[0]["best_epoch"] == 1


# ------------------------------------------------------ checked before any work
@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--classes", "0-9999999999", "from 0 to 2147483647"),
        ("--seeds", "0-99999", "more than 1000 values"),
        ("--classes", "3-1", "is empty"),
        ("--seeds", "5-2", "is empty"),
        ("--seeds", "-1", "expected integers"),
        ("--seeds", "4294967296", "from 0 to 4294967295"),
        ("--classes", "2,0-3", "2 listed more than once"),
        ("--classes", "x", "expected integers"),
        ("--width", "0", "a positive integer"),
        ("--learning-rate", "nan", "a positive number"),
    ],
)
def test_bad_lists_and_values_are_usage_errors(option, value, message, capsys):
    with pytest.raises(SystemExit) as info:
        benchmark.main([option, value])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}" in err and message in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--detectors", "GANomaly,Nope"], "Unknown detector 'Nope'"),
        (["--detectors", "GANomaly,"], "Unknown detector ''"),
        (["--detectors", "LOF,LOF"], "Detectors LOF given more than once"),
        (["--classes", "12", "--dataset", "digits"], "Class 12 is not in the data set"),
        (["--device", "cuda:7x"], "--device"),
        (["--out", "{file}"], "is a file, not a folder"),
        (["--out", "{file}/report"], "{file}"),
    ],
)
def test_mistakes_end_the_run_before_any_fit(tmp_path, monkeypatch, capsys, args, message):
    from sklearn_ganomaly.cli import main

    def fail(*a, **k):
        raise AssertionError("a detector was fitted before the arguments were checked")

    # GANomaly is the first detector of every run here.
    monkeypatch.setattr(GANomalyDetector, "fit", fail)
    (tmp_path / "file").write_text("x")
    args = [a.format(file=tmp_path / "file") for a in args]
    out = [] if "--out" in args else ["--out", str(tmp_path / "report")]
    assert main(["benchmark", "--dataset", "digits", "--classes", "1", *out, *args]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sklearn-ganomaly: error:")
    assert message.format(file=tmp_path / "file") in lines[0]
    assert not (tmp_path / "report").exists() or not any((tmp_path / "report").iterdir())


@pytest.mark.parametrize(
    "plan, message",
    [
        (dict(classes=[], seeds=[0], detectors=["LOF"]), "No classes"),
        (dict(classes=[0], seeds=[], detectors=["LOF"]), "No seeds"),
        (dict(classes=[0], seeds=[0], detectors=[]), "No detectors"),
        (dict(classes=[5], seeds=[0], detectors=["LOF"]), "Class 5 is not"),
        (dict(classes=[0], seeds=[-1], detectors=["LOF"]), "Seed -1"),
    ],
)
def test_run_benchmark_refuses_a_plan_without_results(digits_subset, plan, message):
    with pytest.raises(ValueError, match=message):
        benchmark.run_benchmark(*digits_subset, **plan, progress=False)


def test_failed_report_leaves_the_previous_one_whole(tmp_path, digits_subset, monkeypatch):
    records, artefacts = _run(*digits_subset)
    config = dict(dataset="digits", classes=[0, 1], seeds=[0, 1], detectors=["GANomaly", "LOF"])
    benchmark.write_report(tmp_path, records, artefacts, command="first", config=config)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def broken(*args, **kwargs):
        raise RuntimeError("figure failed")

    monkeypatch.setattr(plotting, "plot_extremes", broken)
    with pytest.raises(RuntimeError, match="figure failed"):
        benchmark.write_report(tmp_path, records, artefacts, command="second", config=config)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
