"""The table benchmark: ADBench's layout read from a folder, the protocol, resumable records."""

import json

import numpy as np
import pytest

from sklearn_ganomaly import GANomalyDetector
from sklearn_ganomaly.benchmark import (
    run_table_benchmark,
    select_tables,
    summarise_tables,
    write_table_report,
)
from sklearn_ganomaly.cli import main
from sklearn_ganomaly.datasets import load_adbench_table, semi_supervised_split

TINY = {"n_epochs": 1, "width": 8, "device": "cpu"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Three small tables in ADBench's layout: normal blobs, anomalies further out."""
    path = tmp_path_factory.mktemp("adbench")
    for number, (n, d) in zip((1, 2, 7), [(160, 4), (120, 6), (140, 3)], strict=True):
        rng = np.random.RandomState(number)
        X = np.vstack([rng.normal(size=(n, d)), rng.normal(size=(20, d)) * 3 + 2])
        y = np.r_[np.zeros(n, int), np.ones(20, int)]
        np.savez(path / f"{number}_toy{d}.npz", X=X, y=y)
    (path / "notes.txt").write_text("not a table")
    return path


def test_tables_are_listed_and_chosen_by_adbench_number(folder):
    assert select_tables(folder, "all") == ["1_toy4", "2_toy6", "7_toy3"]
    assert select_tables(folder, "odd") == ["1_toy4", "7_toy3"]
    assert select_tables(folder, "even") == ["2_toy6"]
    assert select_tables(folder, "7_toy3, 1_toy4") == ["7_toy3", "1_toy4"]
    with pytest.raises(ValueError, match="No table 9_none"):
        select_tables(folder, "9_none")


def test_the_split_keeps_anomalies_out_of_training(folder):
    X, y = load_adbench_table(folder, "1_toy4")
    X_train, X_test, y_test = semi_supervised_split(X, y, random_state=0)
    assert len(X_train) == round(0.7 * 160) and y_test.sum() == 20
    assert len(X_test) == 160 - len(X_train) + 20
    # No training row is an anomaly: none lies among the anomalous rows.
    anomalies = {tuple(row) for row in X[y == 1]}
    assert not any(tuple(row) in anomalies for row in X_train)


def test_every_detector_scores_the_same_rows_and_the_run_resumes(folder, tmp_path):
    records_path = tmp_path / "records.jsonl"
    tables, seeds, detectors = ["1_toy4", "2_toy6"], [0, 1], ["GANomaly", "LOF", "KNN"]
    first = run_table_benchmark(
        folder,
        tables,
        seeds,
        detectors,
        ganomaly_params=TINY,
        records_path=records_path,
        progress=False,
    )
    assert len(first) == 12 and len(records_path.read_text().splitlines()) == 12
    assert {(r["table"], r["seed"], r["detector"]) for r in first} == {
        (t, s, d) for t in tables for s in seeds for d in detectors
    }
    assert all(0.0 <= r["auc"] <= 1.0 for r in first)
    # KNN and LOF beat chance easily on these tables.
    assert np.mean([r["auc"] for r in first if r["detector"] == "KNN"]) > 0.8

    # A rerun finds everything done and fits nothing.
    def no_fit(*args, **kwargs):
        raise AssertionError("fitted again")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(GANomalyDetector, "fit", no_fit)
        again = run_table_benchmark(
            folder, tables, seeds, detectors, records_path=records_path, progress=False
        )
    assert again == first


def test_an_interrupted_run_keeps_what_finished(folder, tmp_path):
    records_path = tmp_path / "records.jsonl"
    calls = {"n": 0}
    original = GANomalyDetector.fit

    def interrupted(self, X, y=None):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return original(self, X, y)

    with pytest.MonkeyPatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(GANomalyDetector, "fit", interrupted)
        run_table_benchmark(
            folder,
            ["1_toy4", "2_toy6"],
            [0],
            ["KNN", "GANomaly"],
            ganomaly_params=TINY,
            records_path=records_path,
            progress=False,
        )
    kept = [json.loads(line) for line in records_path.read_text().splitlines()]
    assert [(r["table"], r["detector"]) for r in kept] == [
        ("1_toy4", "KNN"),
        ("1_toy4", "GANomaly"),
        ("2_toy6", "KNN"),
    ]


def test_the_report_has_a_figure_a_narrow_table_and_the_records(folder, tmp_path):
    pytest.importorskip("matplotlib")
    tables, detectors = ["1_toy4", "7_toy3"], ["GANomaly", "LOF", "KNN", "IForest"]
    records = run_table_benchmark(
        folder, tables, [0], detectors, ganomaly_params=TINY, progress=False
    )
    config = {"folder": str(folder), "tables": tables, "seeds": [0], "detectors": detectors}
    table = write_table_report(tmp_path, records, config=config, command="test")
    assert (tmp_path / "tables.png").stat().st_size > 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert len(results["records"]) == 8
    assert "mean rank" in table and "1_toy4" in table
    report = (tmp_path / "report.md").read_text()
    assert "![" in report and "at or above the better of LOF and KNN" in report
    summary = summarise_tables(records, detectors, tables)
    assert sorted(summary["mean_rank"].values()) != [] and min(summary["mean_rank"].values()) >= 1


def test_the_command_line_checks_before_it_fits(folder, tmp_path, capsys, monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("fitted before the arguments were checked")

    monkeypatch.setattr(GANomalyDetector, "fit", fail)
    for args, message in [
        (["--detectors", "GANomaly,Nope"], "Unknown detector 'Nope'"),
        (["--tables", "3_missing"], "No table 3_missing"),
        (["--device", "cuda:7"], "--device"),
    ]:
        code = main(["benchmark-tables", str(folder), "--out", str(tmp_path / "r"), *args])
        assert code == 1
        assert message in capsys.readouterr().err


def test_the_command_line_runs_and_prints_the_table(folder, tmp_path, capsys):
    code = main(
        [
            "benchmark-tables",
            str(folder),
            "--tables",
            "7_toy3",
            "--seeds",
            "0",
            "--detectors",
            "GANomaly,KNN",
            "--epochs",
            "1",
            "--width",
            "8",
            "--device",
            "cpu",
            "--out",
            str(tmp_path / "report"),
            "--quiet",
            "--no-figures",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "| 7_toy3 |" in out and "mean AUC" in out
    assert (tmp_path / "report" / "records.jsonl").exists()
    report = (tmp_path / "report" / "report.md").read_text()
    assert f"Command: `sklearn-ganomaly benchmark-tables {folder} --tables 7_toy3" in report
