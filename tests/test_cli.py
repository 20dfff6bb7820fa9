"""End to end through the command line: PNG folders in, CSV and PNG figures out."""

import csv
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from sklearn_ganomaly import GANomalyDetector, load
from sklearn_ganomaly._training import AUTO_STEPS
from sklearn_ganomaly.cli import main

# Digits 0 are normal, digits 1 abnormal. Enough optimiser steps (30 epochs
# of batch 16) for the tiny nets to learn the zeros; fewer leave them random.
TRAIN = [
    "--epochs",
    "30",
    "--batch-size",
    "16",
    "--learning-rate",
    "1e-3",
    "--width",
    "8",
    "--latent-dim",
    "16",
    "--seed",
    "0",
    "--device",
    "cpu",
    "--quiet",
]


def _write_pngs(folder, images, prefix):
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        Image.fromarray(image).save(folder / f"{prefix}{i:03d}.png")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, digits_images):
    X, y = digits_images
    X = (X * (255 / 16)).astype(np.uint8)
    zeros, ones = X[y == 0], X[y == 1]
    root = tmp_path_factory.mktemp("cli")
    _write_pngs(root / "normal" / "batch1", zeros[:70], "n")
    _write_pngs(root / "normal" / "batch2", zeros[70:140], "n")
    _write_pngs(root / "test", zeros[140:170], "normal_")
    _write_pngs(root / "test", ones[:30], "abnormal_")
    model = root / "model.pt"
    assert main(["train", str(root / "normal"), "--out", str(model), "--size", "8", *TRAIN]) == 0
    return root, model


def _read_csv(path):
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def test_train_writes_a_loadable_model(workspace, capsys):
    _, model = workspace
    detector = load(model)
    assert detector.input_shape_ == (8, 8)
    assert detector.n_epochs == 30


def test_training_options_follow_the_estimator(workspace, tmp_path):
    root, _ = workspace
    model = tmp_path / "latent.pt"
    args = ["train", str(root / "normal"), "--out", str(model), "--size", "8", *TRAIN]
    assert main([*args, "--score-method", "latent", "--epochs", "auto"]) == 0
    detector = load(model)
    assert detector.score_method == "latent" and detector.n_epochs == "auto"
    # Options left out take the estimator's defaults.
    assert load(workspace[1]).score_method == GANomalyDetector().score_method


def test_score_csv_ranks_abnormal_images_higher(workspace, capsys):
    root, model = workspace
    out = root / "scores.csv"
    assert main(["score", str(root / "test"), "--model", str(model), "--csv", str(out)]) == 0
    assert "Scored 60 images" in capsys.readouterr().out
    rows = _read_csv(out)
    assert list(rows[0]) == ["path", "anomaly_score", "is_anomaly"]
    assert len(rows) == 60
    assert len({r["path"] for r in rows}) == 60
    scores = np.array([float(r["anomaly_score"]) for r in rows])
    assert np.all(np.isfinite(scores))
    assert {r["is_anomaly"] for r in rows} <= {"0", "1"}
    abnormal = np.array(["abnormal_" in r["path"] for r in rows])
    assert scores[abnormal].mean() > scores[~abnormal].mean()


def test_default_threshold_is_the_models_own(workspace):
    root, model = workspace
    out = root / "own.csv"
    main(["score", str(root / "test"), "--model", str(model), "--csv", str(out)])
    rows = _read_csv(out)
    detector = load(model)
    expected = -detector.offset_
    for row in rows:
        assert int(row["is_anomaly"]) == (float(row["anomaly_score"]) > expected)


@pytest.mark.parametrize("threshold, flagged", [("-1e9", 60), ("1e9", 0)])
def test_explicit_threshold(workspace, threshold, flagged):
    root, model = workspace
    out = root / "t.csv"
    args = ["score", str(root / "test"), "--model", str(model), "--csv", str(out)]
    assert main([*args, f"--threshold={threshold}"]) == 0  # = lets a negative value through
    assert sum(int(r["is_anomaly"]) for r in _read_csv(out)) == flagged


def test_report_writes_readable_pngs(workspace, capsys):
    root, model = workspace
    out = root / "report"
    args = ["report", str(root / "test"), "--model", str(model), "--out", str(out), "-k", "3"]
    assert main(args) == 0
    figures = ("score_histogram.png", "extremes.png", "residual_heatmaps.png")
    for name in (*figures, "attribution_maps.png"):
        with Image.open(out / name) as image:
            image.verify()
            assert image.format == "PNG"
        with Image.open(out / name) as image:
            assert min(image.size) > 100
    assert len(_read_csv(out / "scores.csv")) == 60


@pytest.mark.parametrize("command", ["score", "report"])
def test_progress_bar_while_scoring_unless_quiet(workspace, tmp_path, capsys, command):
    root, model = workspace
    out = ["--csv", str(tmp_path / "s.csv")] if command == "score" else ["--out", str(tmp_path)]
    args = [command, str(root / "test"), "--model", str(model), *out]
    assert main(args) == 0
    assert "Scoring" in capsys.readouterr().err
    assert main([*args, "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def _mixed_sizes(root):
    folder = root / "mixed"
    _write_pngs(folder, [np.zeros((8, 8), np.uint8)] * 2, "a")
    _write_pngs(folder, [np.zeros((9, 8), np.uint8)], "b")
    return folder


def _bad_model(root, content):
    path = root / "bad.pt"
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    "make_args, message",
    [
        (lambda r, m: ["train", str(r / "nowhere"), "--out", str(r / "x.pt")], "not found"),
        (lambda r, m: ["train", str(r / "report" / "empty"), "--out", "x.pt"], "No images"),
        (lambda r, m: ["train", str(_mixed_sizes(r)), "--out", "x.pt"], "size mismatch"),
        (
            lambda r, m: ["score", str(r / "test"), "--model", str(r / "no.pt"), "--csv", "o.csv"],
            "Model file not found",
        ),
        (
            lambda r, m: [
                "score",
                str(r / "test"),
                "--model",
                str(_bad_model(r, b"text")),
                "--csv",
                "o.csv",
            ],
            "not a sklearn-ganomaly model",
        ),
        (
            lambda r, m: [
                "score",
                str(r / "test"),
                "--model",
                str(_bad_model(r, m.read_bytes()[:3000])),
                "--csv",
                "o.csv",
            ],
            "truncated",
        ),
        (
            lambda r, m: ["report", str(r / "nowhere"), "--model", str(m), "--out", "rep"],
            "not found",
        ),
        (
            lambda r, m: ["train", str(r / "normal"), "--out", "x.pt", "--device", "cuda:7x"],
            "device",
        ),
    ],
    ids=[
        "missing-folder",
        "no-images",
        "size-mismatch",
        "missing-model",
        "not-a-model",
        "truncated-model",
        "report-missing-folder",
        "bad-device",
    ],
)
def test_user_mistakes_are_one_line(workspace, capsys, make_args, message):
    root, model = workspace
    (root / "report" / "empty").mkdir(parents=True, exist_ok=True)
    assert main(make_args(root, model)) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("sklearn-ganomaly: error:")
    assert message in lines[0]


def test_tabular_model_is_refused(workspace, tmp_path, capsys, blobs):
    from sklearn_ganomaly import GANomalyDetector

    root, _ = workspace
    detector = GANomalyDetector(width=4, n_epochs=1, random_state=0, device="cpu").fit(blobs)
    path = detector.save(tmp_path / "t.pt")
    assert main(["score", str(root / "test"), "--model", str(path), "--csv", "-"]) == 1
    assert "not trained on images" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["train", "score", "report", "benchmark"])
def test_help_explains_each_command(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: sklearn-ganomaly {command}" in out
    assert "--model" in out or "--out" in out


def test_help_lists_every_subcommand_with_the_benchmark(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    commands = out.split("commands:")[1].split()
    assert {"train", "score", "report", "benchmark"} <= set(commands)


def test_installed_entry_point_without_traceback(tmp_path):
    # A real process: the exit status and stderr a shell user sees.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sklearn_ganomaly.cli",
            "score",
            str(tmp_path / "missing"),
            "--model",
            str(tmp_path / "m.pt"),
            "--csv",
            "o.csv",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


# ------------------------------------------------- the words match the behaviour
TINY = ["--batch-size", "8", "--width", "4", "--latent-dim", "2", "--seed", "0"]
TINY += ["--quiet", "--device", "cpu"]


@pytest.fixture
def small_folder(tmp_path):
    rng = np.random.RandomState(0)
    _write_pngs(tmp_path / "imgs", rng.randint(0, 256, (20, 8, 8)).astype(np.uint8), "i")
    return tmp_path / "imgs"


@pytest.fixture
def saved_detector(monkeypatch):
    """The detector ``train`` fits, caught as it saves."""
    caught = {}
    original = GANomalyDetector.save

    def save(self, path):
        caught["detector"] = self
        return original(self, path)

    monkeypatch.setattr(GANomalyDetector, "save", save)
    return caught


def test_train_summary_counts_what_the_threshold_flags(
    small_folder, tmp_path, capsys, saved_detector
):
    args = ["train", str(small_folder), "--out", str(tmp_path / "m.pt"), "--epochs", "2"]
    assert main([*args, *TINY, "--contamination", "0.25"]) == 0
    flagged = int(capsys.readouterr().out.split(" flags ")[1].split(" of 20 ")[0])
    detector = saved_detector["detector"]
    # The leave-one-out training scores, those the threshold was set on.
    assert flagged == np.sum(detector.train_anomaly_scores_ > -detector.offset_)
    assert abs(flagged - 0.25 * 20) <= 1


def test_train_summary_names_the_epochs_run(small_folder, tmp_path, capsys, monkeypatch):
    original = GANomalyDetector.fit

    def fit_briefly(self, X, y=None):
        # --epochs auto, cut to 3 epochs to keep the test short.
        self.set_params(n_epochs=3)
        try:
            return original(self, X)
        finally:
            self.set_params(n_epochs="auto")

    monkeypatch.setattr(GANomalyDetector, "fit", fit_briefly)
    args = ["train", str(small_folder), "--out", str(tmp_path / "m.pt"), "--epochs", "auto"]
    assert main([*args, *TINY]) == 0
    out = capsys.readouterr().out
    assert " of 3 run;" in out and "auto" not in out


def test_warnings_name_the_flags_not_the_parameters(small_folder, tmp_path, capsys):
    args = ["train", str(small_folder), "--out", str(tmp_path / "m.pt"), "--epochs", "1"]
    assert main([*args, *TINY]) == 0
    warning = next(line for line in capsys.readouterr().err.splitlines() if "undertrained" in line)
    assert warning.startswith("sklearn-ganomaly: warning:")
    steps = AUTO_STEPS["image"]
    assert f"Use --epochs auto ({steps} steps" in warning and "--epochs >= " in warning
    assert "n_epochs" not in warning


@pytest.mark.parametrize(
    "text, expected",
    [
        ("raise n_epochs or use n_epochs='auto'.", "raise --epochs or use --epochs auto."),
        ("Lower learning_rate (it is 0.1).", "Lower --learning-rate (it is 0.1)."),
        ("with width=64 and latent_dim=100", "with --width 64 and --latent-dim 100"),
        ("pass size= to resize", "pass --size to resize"),
        ("another random_state", "another --seed"),
        # Words, dotted fields and paths are left alone.
        ("Image folder not found: batch_size/a", "Image folder not found: batch_size/a"),
        ("n_epochs.json and n_epochs.", "n_epochs.json and --epochs."),
        (
            "the width of params.width in /a/size=3/b.png",
            "the width of params.width in /a/size=3/b.png",
        ),
    ],
)
def test_parameters_in_messages_become_flags(text, expected):
    from sklearn_ganomaly.cli import TRAIN_FLAGS, as_flags

    assert as_flags(text, TRAIN_FLAGS) == expected


def _help_of(capsys, subcommand):
    with pytest.raises(SystemExit):
        main([subcommand, "--help"])
    return " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize(
    "subcommand, defaulted",
    [
        ("benchmark", ("--dataset", "--learning-rate", "--device", "--seeds", "--out")),
        ("benchmark-tables", ("--tables", "--learning-rate", "--device", "--seeds", "--out")),
    ],
)
def test_benchmark_help_documents_every_option(capsys, subcommand, defaulted):
    text = _help_of(capsys, subcommand)
    options = text.split("options:", 1)[1]
    for name in defaulted:
        described = options.split(f" {name} ", 1)[1].split(" --", 1)[0]
        assert "default" in described, (name, described)


def test_ctrl_c_while_the_command_loads_is_one_line(tmp_path):
    # An interrupt that lands while torch and the estimator are imported: a
    # finder that raises KeyboardInterrupt on the first import of torch.
    script = tmp_path / "run.py"
    script.write_text(
        "import sys\n"
        "class CtrlC:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'torch':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, CtrlC())\n"
        "from sklearn_ganomaly._launcher import main\n"
        "sys.exit(main())\n"
    )
    result = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 130
    assert result.stderr == "sklearn-ganomaly: interrupted; no output was written\n"


def test_the_package_imports_without_torch_until_the_estimator_is_used():
    code = (
        "import sys, sklearn_ganomaly; assert 'torch' not in sys.modules; "
        "sklearn_ganomaly.GANomalyDetector; assert 'torch' in sys.modules"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0
