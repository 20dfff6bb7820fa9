"""Bad input, interrupts and hostile files: never a wrong answer, never lost work.

One test class per guarantee: non-finite and far-out values, interrupted
training, outputs that cannot be written, unbounded resources, tampered
model files, and errors that name what is wrong. The fuzzing of dtypes,
shapes and value ranges is in ``test_fuzz.py``.
"""

import errno
import json
import os
import pickle
import re
import signal
import stat
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from skorch.callbacks import Callback, EarlyStopping
from test_fuzz import assert_raised_by_package

import sklearn_ganomaly
from sklearn_ganomaly import GANomalyDetector, load
from sklearn_ganomaly._checks import MAX_ABS_VALUE
from sklearn_ganomaly._files import atomic_path
from sklearn_ganomaly._scoring_graph import ScoringGraph
from sklearn_ganomaly.cli import main
from sklearn_ganomaly.datasets import load_image_folder
from sklearn_ganomaly.exceptions import (
    InputRangeWarning,
    NonFiniteScoreWarning,
    TrainingInterruptedWarning,
)

TINY = dict(width=4, latent_dim=2, n_epochs=1, batch_size=8, random_state=0, device="cpu")
CLI_TINY = ["--epochs", "2", "--batch-size", "8", "--width", "4", "--latent-dim", "2"]
CLI_TINY += ["--seed", "0", "--quiet", "--device", "cpu"]


@pytest.fixture(scope="module")
def images():
    return np.random.RandomState(0).random_sample((40, 8, 8))


@pytest.fixture(scope="module")
def table():
    return np.random.RandomState(0).normal(size=(40, 4))


@pytest.fixture(scope="module")
def image_model(images):
    return GANomalyDetector(**TINY).fit(images)


@pytest.fixture(scope="module")
def table_model(table):
    return GANomalyDetector(**TINY).fit(table)


def _nan_weights(detector):
    """A copy of ``detector`` whose generator computes NaN for every sample."""
    broken = pickle.loads(pickle.dumps(detector))
    with torch.no_grad():
        next(broken.net_.module_.parameters()).fill_(float("nan"))
    return broken


def _write_pngs(folder, n=12, side=8, seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(seed)
    for i in range(n):
        Image.fromarray(rng.randint(0, 256, (side, side), dtype=np.uint8)).save(
            folder / f"img{i:02d}.png"
        )
    return folder


@pytest.fixture(scope="module")
def cli_model(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    folder = _write_pngs(root / "normal")
    model = root / "model.pt"
    assert main(["train", str(folder), "--out", str(model), *CLI_TINY]) == 0
    return root, folder, model


def _one_error_line(capsys, fragment):
    """The one line the CLI printed about the failure (notes and warnings aside)."""
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    lines = [
        line
        for line in err.strip().splitlines()
        if line.startswith("sklearn-ganomaly:") and "warning:" not in line
    ]
    assert len(lines) == 1, err
    assert fragment in lines[0], err
    return lines[0]


# ---------------------------------------------------- no silent wrong answers
class TestNoSilentWrongAnswers:
    @pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, 1e39, 1e30, 1e200])
    @pytest.mark.parametrize("kind", ["image", "table"])
    def test_non_finite_and_extreme_values_are_rejected_at_scoring(
        self, kind, value, image_model, table_model, images, table
    ):
        model, X = (image_model, images) if kind == "image" else (table_model, table)
        x = X[:2].copy()
        x.flat[0] = value
        for method in (model.score_samples, model.decision_function, model.predict):
            with pytest.raises(ValueError, match="X") as info:
                method(x)
            assert_raised_by_package(info.value)

    @pytest.mark.parametrize("value", [np.nan, np.inf, 1e39])
    def test_same_values_are_rejected_at_fit(self, value, images):
        X = images.copy()
        X[3, 2, 1] = value
        with pytest.raises(ValueError, match="X") as info:
            GANomalyDetector(**TINY).fit(X)
        assert_raised_by_package(info.value)

    def test_documented_magnitude_limit(self, table):
        X = table.copy()
        X[0, 0] = MAX_ABS_VALUE  # at the limit: accepted
        GANomalyDetector(**TINY).fit(X)
        X[0, 0] = 2 * MAX_ABS_VALUE
        with pytest.raises(ValueError, match="at most 1e\\+30"):
            GANomalyDetector(**TINY).fit(X)

    def test_non_finite_scores_are_outliers_with_a_warning(self, image_model, images):
        broken = _nan_weights(image_model)
        with pytest.warns(NonFiniteScoreWarning, match="labelled outliers"):
            decisions = broken.decision_function(images[:5])
        assert np.all(decisions == -np.inf)
        with pytest.warns(NonFiniteScoreWarning):
            assert np.all(broken.predict(images[:5]) == -1)

    def test_pyod_adapter_flags_non_finite_scores(self, table):
        pytest.importorskip("pyod")
        from sklearn_ganomaly.pyod import GANomaly

        adapter = GANomaly(**TINY).fit(table)
        adapter.detector_ = _nan_weights(adapter.detector_)
        with pytest.warns(NonFiniteScoreWarning):
            assert np.all(adapter.predict(table[:4]) == 1)
        for method in ("linear", "unify"):
            with pytest.warns(NonFiniteScoreWarning):
                proba = adapter.predict_proba(table[:4], method=method)
            assert not np.isnan(proba).any()
            np.testing.assert_allclose(proba[:, 1], 1.0)

    @pytest.mark.parametrize("threshold", [None, 0.5])
    def test_cli_flags_non_finite_scores(self, image_model, images, threshold):
        from sklearn_ganomaly import cli

        broken = _nan_weights(image_model)
        paths = [f"img{i}.png" for i in range(4)]
        with pytest.warns(NonFiniteScoreWarning, match="img0.png"):
            _, flagged, _ = cli._scores(broken, images[:4], paths, threshold)
        assert flagged.all()

    def test_uint8_against_unit_range_warns_naming_both_ranges(self, image_model, images):
        with pytest.warns(InputRangeWarning, match=r"far outside.*fit, \[7\.\d+e-05, 0\.99\d+\]"):
            image_model.score_samples((images[:5] * 255).astype(np.uint8))

    def test_unit_range_against_uint8_warns_naming_both_ranges(self, images):
        model = GANomalyDetector(**TINY).fit((images * 255).astype(np.uint8))
        with pytest.warns(InputRangeWarning, match=r"only \[.*range seen at fit, \[0, 25\d\]"):
            model.score_samples(images[:5])

    def test_table_in_other_units_warns(self, table_model, table):
        with pytest.warns(InputRangeWarning, match="Feature 0 of X"):
            table_model.score_samples(table[:5] * 1000 + 1e4)

    def test_in_range_data_does_not_warn(self, image_model, images):
        with warnings.catch_warnings():
            warnings.simplefilter("error", InputRangeWarning)
            image_model.score_samples(images[:5])

    def test_exploding_training_warns_to_lower_the_learning_rate(self, images):
        with pytest.warns(ConvergenceWarning, match="exploded.*learning_rate"):
            GANomalyDetector(**{**TINY, "learning_rate": 1e3}).fit(images)

    def test_constant_training_data_warns(self):
        with pytest.warns(ConvergenceWarning, match="all identical"):
            GANomalyDetector(**TINY).fit(np.ones((20, 8, 8)))

    @pytest.mark.parametrize("shape", [(40, 8, 8), (40, 4)])
    def test_data_too_small_for_float32_is_rejected(self, shape):
        X = np.random.RandomState(0).random_sample(shape) * 1e-300
        with pytest.raises(ValueError, match="varies too little.*Rescale X"):
            GANomalyDetector(**TINY).fit(X)


# ---------------------------------------------------------------- interrupts
class _InterruptAt(Callback):
    """Raise ``error`` at the ``batch``-th training (or validation) batch of ``epoch``."""

    def __init__(self, epoch, batch, error=KeyboardInterrupt, training=True):
        self.epoch, self.batch, self.error, self.training = epoch, batch, error, training

    def initialize(self):
        self.seen_ = 0
        return self

    def on_batch_end(self, net, training=False, **kwargs):
        if training != self.training or len(net.history) != self.epoch:
            return
        self.seen_ += 1
        if self.seen_ == self.batch:
            raise self.error()


class TestInterrupts:
    @pytest.mark.parametrize("epoch, batch, training", [(1, 1, True), (1, 3, True), (1, 1, False)])
    def test_interrupt_before_a_complete_epoch_leaves_the_detector_unfitted(
        self, table, epoch, batch, training
    ):
        detector = GANomalyDetector(
            **{**TINY, "n_epochs": 3}, callbacks=[_InterruptAt(epoch, batch, training=training)]
        )
        with pytest.raises(KeyboardInterrupt, match="not fitted"):
            detector.fit(table)
        with pytest.raises(NotFittedError):
            detector.predict(table)

    @pytest.mark.parametrize("epoch, batch, training", [(2, 1, True), (3, 2, True), (2, 1, False)])
    def test_later_interrupt_keeps_the_best_epoch_and_says_so(self, table, epoch, batch, training):
        detector = GANomalyDetector(
            **{**TINY, "n_epochs": 4}, callbacks=[_InterruptAt(epoch, batch, training=training)]
        )
        with pytest.warns(TrainingInterruptedWarning, match=f"interrupted in epoch {epoch}"):
            detector.fit(table)
        assert detector.best_epoch_ < epoch
        assert np.all(np.isfinite(detector.score_samples(table)))

    def test_planned_stop_by_a_callback_is_not_an_interruption(self, table):
        stop = EarlyStopping(monitor="valid_loss", patience=1, threshold=10.0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", TrainingInterruptedWarning)
            detector = GANomalyDetector(**{**TINY, "n_epochs": 6}, callbacks=[stop]).fit(table)
        assert len(detector.history_) < 6

    @pytest.mark.parametrize("error", [RuntimeError, ValueError, MemoryError])
    def test_failing_fit_leaves_the_detector_unfitted(self, table, error):
        detector = GANomalyDetector(**TINY).fit(table)  # a previous fit must not survive
        detector.set_params(callbacks=[_InterruptAt(1, 2, error=error)])
        with pytest.raises(error):
            detector.fit(table)
        with pytest.raises(NotFittedError):
            detector.score_samples(table)
        detector.set_params(callbacks=None).fit(table)  # and it can be fitted again
        assert np.all(np.isfinite(detector.score_samples(table)))

    def test_interrupt_after_training_leaves_the_detector_unfitted(self, table, monkeypatch):
        def interrupted(self, *args, **kwargs):
            raise KeyboardInterrupt

        # Training is over when the read-out is fitted: interrupt its first forward pass.
        monkeypatch.setattr(ScoringGraph, "forward", interrupted)
        detector = GANomalyDetector(**TINY)
        with pytest.raises(KeyboardInterrupt):
            detector.fit(table)
        with pytest.raises(NotFittedError):
            detector.predict(table)

    @staticmethod
    def _ctrl_c_at_step(monkeypatch, step):
        from sklearn_ganomaly._net import GANomalyNet

        original, calls = GANomalyNet.train_step, {"n": 0}

        def train_step(self, batch, **kwargs):
            calls["n"] += 1
            if calls["n"] == step:
                raise KeyboardInterrupt
            return original(self, batch, **kwargs)

        monkeypatch.setattr(GANomalyNet, "train_step", train_step)

    def test_cli_ctrl_c_in_the_first_epoch(self, tmp_path, monkeypatch, capsys):
        folder = _write_pngs(tmp_path / "normal")
        self._ctrl_c_at_step(monkeypatch, 1)
        out = tmp_path / "m.pt"
        assert main(["train", str(folder), "--out", str(out), *CLI_TINY]) == 130
        _one_error_line(capsys, "interrupted")
        assert not out.exists()

    @pytest.mark.parametrize("save_partial", [False, True])
    def test_cli_ctrl_c_later_saves_only_when_asked(
        self, tmp_path, monkeypatch, capsys, save_partial
    ):
        folder = _write_pngs(tmp_path / "normal")
        self._ctrl_c_at_step(monkeypatch, 3)  # 12 images, batch 8: epoch 2's first step
        out = tmp_path / "m.pt"
        flag = ["--save-partial"] if save_partial else []
        assert main(["train", str(folder), "--out", str(out), *CLI_TINY, *flag]) == 130
        line = _one_error_line(capsys, "interrupted in epoch 2")
        assert out.exists() == save_partial
        assert ("saved the best" in line) == save_partial
        if save_partial:
            assert load(out).best_epoch_ == 1

    def test_cli_ctrl_c_after_the_model_was_saved_says_so(self, tmp_path, monkeypatch, capsys):
        folder = _write_pngs(tmp_path / "normal")
        original = GANomalyDetector.save

        def save_then_ctrl_c(self, path):
            original(self, path)
            raise KeyboardInterrupt

        monkeypatch.setattr(GANomalyDetector, "save", save_then_ctrl_c)
        out = tmp_path / "m.pt"
        assert main(["train", str(folder), "--out", str(out), *CLI_TINY]) == 130
        line = _one_error_line(capsys, f"interrupted; {out} had been written before")
        assert "no output was written" not in line
        assert load(out).best_epoch_ >= 1

    @pytest.mark.parametrize("where", ["parsing", "loading the model"])
    def test_cli_ctrl_c_in_the_first_seconds_is_one_line(
        self, cli_model, tmp_path, monkeypatch, capsys, where
    ):
        from sklearn_ganomaly import cli

        def ctrl_c(*args, **kwargs):
            raise KeyboardInterrupt

        if where == "parsing":
            monkeypatch.setattr(cli, "build_parser", ctrl_c)
        else:
            monkeypatch.setattr(cli, "load", ctrl_c)
        _, folder, model = cli_model
        args = ["score", str(folder), "--model", str(model), "--csv", str(tmp_path / "s.csv")]
        try:
            status = main(args)
        except KeyboardInterrupt:
            pytest.fail("Ctrl-C escaped the command line as a traceback")
        assert status == 130
        _one_error_line(capsys, "interrupted; no output was written")


# ---------------------------------------------------------------- nothing lost
ON_LINUX = os.path.isdir("/proc/self")


class TestNothingLost:
    @pytest.mark.skipif(not ON_LINUX, reason="uses /proc as an unwritable folder")
    @pytest.mark.parametrize(
        "out", ["/proc/m.pt", "/proc/no/such/m.pt", "{tmp}", "{tmp}/file.txt/m.pt"]
    )
    def test_train_checks_the_output_before_training(self, tmp_path, monkeypatch, capsys, out):
        (tmp_path / "file.txt").write_text("x")
        folder = _write_pngs(tmp_path / "normal")

        def no_fit(*args, **kwargs):
            raise AssertionError("trained although the output cannot be written")

        monkeypatch.setattr(GANomalyDetector, "fit", no_fit)
        args = ["train", str(folder), "--out", out.format(tmp=tmp_path), *CLI_TINY]
        assert main(args) == 1
        _one_error_line(capsys, "Cannot write")

    def test_train_creates_missing_output_folders(self, tmp_path, capsys):
        folder = _write_pngs(tmp_path / "normal")
        out = tmp_path / "no" / "such" / "dir" / "m.pt"
        assert main(["train", str(folder), "--out", str(out), *CLI_TINY]) == 0
        assert load(out).best_epoch_ >= 1

    @pytest.mark.skipif(not ON_LINUX, reason="uses /proc as an unwritable folder")
    def test_score_checks_the_csv_before_scoring(self, cli_model, capsys, monkeypatch):
        _, folder, model = cli_model
        monkeypatch.setattr(
            GANomalyDetector, "anomaly_score", lambda *a: pytest.fail("scored first")
        )
        args = ["score", str(folder), "--model", str(model), "--csv", "/proc/s.csv"]
        assert main(args) == 1
        _one_error_line(capsys, "Cannot write /proc/s.csv")

    @pytest.fixture
    def undecodable_folder(self, tmp_path):
        folder = _write_pngs(tmp_path / "mixed", n=9)
        name = os.fsencode(folder) + b"/bad\xff\xfe.png"
        try:
            fd = os.open(name, os.O_WRONLY | os.O_CREAT)
        except OSError:
            pytest.skip("the file system refuses undecodable names")
        os.close(fd)
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(os.fsdecode(name), format="PNG")
        return folder

    def test_undecodable_name_fails_the_score_without_touching_the_csv(
        self, cli_model, undecodable_folder, tmp_path, capsys
    ):
        _, _, model = cli_model
        csv = tmp_path / "existing.csv"
        csv.write_text("precious\n")
        args = ["score", str(undecodable_folder), "--model", str(model), "--csv", str(csv)]
        assert main(args) == 1
        _one_error_line(capsys, "bad\\xff\\xfe.png")
        assert csv.read_text() == "precious\n"
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []

    def test_undecodable_name_leaves_no_partial_report(
        self, cli_model, undecodable_folder, tmp_path, capsys
    ):
        _, _, model = cli_model
        report = tmp_path / "report"
        args = ["report", str(undecodable_folder), "--model", str(model), "--out", str(report)]
        assert main(args) == 1
        _one_error_line(capsys, "not valid UTF-8")
        assert list(report.iterdir()) == []

    def test_failed_save_keeps_the_existing_model(self, table_model, tmp_path, monkeypatch):
        path = table_model.save(tmp_path / "m.pt")
        before = path.read_bytes()
        original = Path.write_bytes

        def full_disk(self, data):
            original(self, bytes(data)[:10])  # half written, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(Path, "write_bytes", full_disk)
        with pytest.raises(OSError, match="No space left on device") as info:
            table_model.save(path)
        assert info.value.filename == str(path)  # the message names the model file
        assert path.read_bytes() == before
        assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]

    @pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="no file size limits here")
    def test_a_failing_write_names_the_file_not_torch_internals(self, table_model, tmp_path):
        # A file size limit makes the kernel fail the write as a full disk would.
        resource = pytest.importorskip("resource")
        path = tmp_path / "m.pt"
        limits = resource.getrlimit(resource.RLIMIT_FSIZE)
        handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, limits[1]))
        try:
            with pytest.raises(OSError) as info:
                table_model.save(path)
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, limits)
            signal.signal(signal.SIGXFSZ, handler)
        assert info.value.errno == errno.EFBIG and info.value.filename == str(path)
        assert "inline_container" not in str(info.value)
        assert list(tmp_path.iterdir()) == []

    def test_train_checks_free_space_before_training(self, tmp_path, monkeypatch, capsys):
        from sklearn_ganomaly import _files

        folder = _write_pngs(tmp_path / "normal")
        monkeypatch.setattr(_files.shutil, "disk_usage", lambda path: _DiskUsage(1000))
        monkeypatch.setattr(GANomalyDetector, "fit", lambda *a: pytest.fail("trained first"))
        out = tmp_path / "m.pt"
        assert main(["train", str(folder), "--out", str(out), *CLI_TINY]) == 1
        _one_error_line(capsys, f"Cannot write {out}: No space left on device")

    def test_save_through_a_link_writes_its_target(self, table_model, table, tmp_path):
        target = tmp_path / "models" / "m.pt"
        target.parent.mkdir()
        target.write_bytes(b"old model")
        link = tmp_path / "current.pt"
        link.symlink_to(target)
        dangling = tmp_path / "next.pt"
        dangling.symlink_to(tmp_path / "models" / "new.pt")
        for path in (link, dangling):
            table_model.save(path)
            assert path.is_symlink()
        assert target.stat().st_size > len(b"old model")
        for path in (target, tmp_path / "models" / "new.pt"):
            np.testing.assert_array_equal(
                load(path).score_samples(table), table_model.score_samples(table)
            )

    @pytest.mark.skipif(not ON_LINUX, reason="device nodes and /proc")
    @pytest.mark.parametrize("writer", ["save", "export_onnx", "cli"])
    def test_device_nodes_are_written_not_replaced(self, table, tmp_path, cli_model, writer):
        device = _null_device(tmp_path)
        if writer == "save":
            GANomalyDetector(**TINY).fit(table).save(device)
        elif writer == "export_onnx":
            pytest.importorskip("onnx")
            GANomalyDetector(**TINY, score_method="latent").fit(table).export_onnx(device)
        else:
            _, folder, model = cli_model
            assert main(["score", str(folder), "--model", str(model), "--csv", device]) == 0
        assert stat.S_ISCHR(os.stat(device).st_mode)
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []

    @pytest.mark.timeout(60)
    @pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
    def test_a_fifo_receives_the_model(self, table_model, table, tmp_path):
        fifo = tmp_path / "pipe"
        os.mkfifo(fifo)
        received = {}

        def read():
            with open(fifo, "rb") as file:
                received["data"] = file.read()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        table_model.save(fifo)
        reader.join(timeout=30)
        assert stat.S_ISFIFO(os.stat(fifo).st_mode)
        (tmp_path / "copy.pt").write_bytes(received["data"])
        np.testing.assert_array_equal(
            load(tmp_path / "copy.pt").score_samples(table), table_model.score_samples(table)
        )

    @pytest.mark.skipif(not ON_LINUX, reason="uses /proc/self/fd")
    def test_csv_to_stdout_by_its_path_keeps_what_stdout_holds(self, cli_model, tmp_path, capfd):
        # A link of its own to this process's stdout, as /dev/stdout is: a
        # rename would replace the link, and truncating would erase the log.
        stdout = tmp_path / "stdout"
        stdout.symlink_to("/proc/self/fd/1")
        _, folder, model = cli_model
        print("earlier output", flush=True)
        assert main(["score", str(folder), "--model", str(model), "--csv", str(stdout)]) == 0
        out = capfd.readouterr().out
        assert out.startswith("earlier output\npath,anomaly_score,is_anomaly\r\n")
        assert out.count("\n") == 2 + 12  # the header and one row per image, no summary
        assert stdout.is_symlink()

    @pytest.mark.parametrize(
        "command",
        [
            "score {imgs} --model {model} --csv {model}",
            "score {imgs} --model {model} --csv {imgs}/img00.png",
            "score {imgs} --model {model} --csv {imgs}/new.png",
            "train {imgs} --out {imgs}/img00.png",
            "train {imgs} --out {imgs}/b.png",
            "report {imgs} --model {model} --out {imgs}",
            "report {imgs} --model {model} --out {imgs}/report",
        ],
    )
    def test_an_output_may_not_name_an_input(
        self, cli_model, tmp_path, monkeypatch, capsys, command
    ):
        _, _, model = cli_model
        folder = _write_pngs(tmp_path / "imgs", n=3)
        copy = tmp_path / "model.pt"
        copy.write_bytes(model.read_bytes())
        before = {p: p.read_bytes() for p in (copy, *folder.iterdir())}
        monkeypatch.setattr(GANomalyDetector, "fit", lambda *a: pytest.fail("trained"))
        monkeypatch.setattr(GANomalyDetector, "anomaly_score", lambda *a: pytest.fail("scored"))
        args = command.format(imgs=folder, model=copy).split()
        if args[0] == "train":
            args += CLI_TINY
        assert main(args) == 1
        _one_error_line(capsys, "input folder" if "imgs" in command.split()[-1] else "model")
        assert {p: p.read_bytes() for p in (copy, *folder.iterdir())} == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["imgs", "model.pt"]

    def test_interrupted_write_leaves_nothing(self, tmp_path):
        target = tmp_path / "out.csv"
        target.write_text("old")
        with pytest.raises(KeyboardInterrupt):
            with atomic_path(target) as tmp:
                tmp.write_text("new, half")
                raise KeyboardInterrupt
        assert target.read_text() == "old"
        assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]

    def test_written_files_get_ordinary_permissions(self, table_model, tmp_path):
        path = table_model.save(tmp_path / "m.pt")
        umask = os.umask(0)
        os.umask(umask)
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask

    def test_failed_onnx_export_keeps_the_existing_file(self, table, tmp_path, monkeypatch):
        pytest.importorskip("onnx")
        # A score the graph exports, so that the export itself is what fails.
        table_model = GANomalyDetector(**TINY, score_method="latent").fit(table)
        path = tmp_path / "m.onnx"
        path.write_bytes(b"old graph")

        def failing_export(*args, **kwargs):
            raise RuntimeError("exporter failed")

        monkeypatch.setattr(torch.onnx, "export", failing_export)
        with pytest.raises(RuntimeError):
            table_model.export_onnx(path)
        assert path.read_bytes() == b"old graph"
        assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]


class _DiskUsage:
    def __init__(self, free):
        self.total, self.used, self.free = 10 * free, 9 * free, free


def _null_device(tmp_path):
    """A character device that discards writes: a copy of /dev/null where one can be made.

    Root may create device nodes, and would replace /dev/null itself if a
    write renamed onto it; others cannot, so they get /dev/null.
    """
    try:
        os.mknod(tmp_path / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except (OSError, AttributeError):
        return "/dev/null"
    return str(tmp_path / "null")


# --------------------------------------------------------- bounded resources
class TestBoundedResources:
    @pytest.mark.timeout(60)
    @pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
    def test_fifo_is_skipped_not_read(self, tmp_path, cli_model, capsys):
        folder = _write_pngs(tmp_path / "with_fifo", n=4)
        os.mkfifo(folder / "x.png")
        with pytest.warns(UserWarning, match="x.png: it is a FIFO"):
            images, paths = load_image_folder(folder, size=None)
        assert len(paths) == 4
        _, _, model = cli_model
        args = ["score", str(folder), "--model", str(model), "--csv", str(tmp_path / "s.csv")]
        assert main(args) == 0
        assert "warning: Skipped" in capsys.readouterr().err

    def test_broken_link_is_skipped(self, tmp_path):
        folder = _write_pngs(tmp_path / "links", n=3)
        os.symlink(tmp_path / "missing.png", folder / "gone.png")
        with pytest.warns(UserWarning, match="gone.png"):
            _, paths = load_image_folder(folder, size=None)
        assert len(paths) == 3

    def test_huge_size_fails_in_one_line_before_reading(self, tmp_path, capsys):
        folder = _write_pngs(tmp_path / "normal", n=3)
        args = ["train", str(folder), "--out", str(tmp_path / "m.pt"), "--size", "100000"]
        assert main(args) == 1
        _one_error_line(capsys, "over the cap of 4096")

    def test_networks_over_the_cap_fail_before_allocating(self, tmp_path, capsys):
        folder = _write_pngs(tmp_path / "normal", n=3)
        args = ["train", str(folder), "--out", str(tmp_path / "m.pt"), "--size", "2048"]
        assert main(args) == 1
        _one_error_line(capsys, "parameters")
        with pytest.raises(ValueError, match="lower width"):
            GANomalyDetector(n_epochs=1).fit(np.zeros((2, 2048, 2048), np.uint8))

    def test_image_over_the_side_cap_is_refused(self, tmp_path):
        folder = tmp_path / "big"
        folder.mkdir()
        Image.new("L", (5000, 2)).save(folder / "wide.png")
        with pytest.raises(ValueError, match="over the cap of 4096"):
            load_image_folder(folder, size=None)
        images, _ = load_image_folder(folder, size=(2, 16))  # resizing is allowed
        assert images.shape == (1, 2, 16)

    def test_folder_larger_than_memory_is_refused(self, tmp_path, monkeypatch):
        from sklearn_ganomaly.datasets import _image_folder

        folder = _write_pngs(tmp_path / "normal", n=3)
        monkeypatch.setattr(_image_folder, "_available_memory", lambda: 100)
        with pytest.raises(ValueError, match="more than the .* GB of memory available"):
            load_image_folder(folder, size=None)


# ------------------------------------------------------- model files validated
def _tamper(path, edit_metadata=None, edit_tensors=None):
    payload = torch.load(path, weights_only=True)
    metadata = json.loads(payload["metadata"])
    if edit_metadata:
        edit_metadata(metadata)
    if edit_tensors:
        edit_tensors(payload["tensors"])
    payload["metadata"] = json.dumps(metadata)
    torch.save(payload, path)
    return path


def _set(*keys, value):
    def edit(metadata):
        target = metadata
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return edit


def _first_weight(suffix="weight"):
    def key(tensors):
        return next(k for k in tensors if k.startswith("generator.") and k.endswith(suffix))

    return key


def _tensor_edit(action):
    def edit(tensors):
        key = _first_weight()(tensors)
        tensors[key] = action(tensors[key])

    return edit


METADATA_TAMPERING = {
    "score_center_ text": (_set("score_center_", value="abc"), "score_center_"),
    "score_center_ NaN": (_set("score_center_", value=float("nan")), "score_center_"),
    "score_scale_ zero": (_set("score_scale_", value=0.0), "score_scale_"),
    "score_scale_ negative": (_set("score_scale_", value=-1.0), "score_scale_"),
    "offset_ infinite": (_set("offset_", value=float("inf")), "offset_"),
    "offset_ missing": (lambda m: m.pop("offset_"), "offset_"),
    "latent_dim_ zero": (_set("latent_dim_", value=0), "latent_dim_"),
    "latent_dim_ changed": (_set("latent_dim_", value=3), "network.latent_dim"),
    "best_epoch_ text": (_set("best_epoch_", value="1"), "best_epoch_"),
    "best_epoch_ too late": (_set("best_epoch_", value=99), "best_epoch_"),
    "n_features_in_ changed": (_set("n_features_in_", value=9), "n_features_in_"),
    "input_shape_ changed": (_set("input_shape_", value=[16, 16]), "input_shape_"),
    "image size changed": (
        lambda m: m["input_transform"].update(sample_shape=[6, 6]),
        "input_transform.network_shape",
    ),
    "image size changed everywhere": (
        lambda m: (
            m["input_transform"].update(sample_shape=[16, 16], network_shape=[1, 16, 16]),
            m.update(input_shape_=[16, 16], n_features_in_=16),
        ),
        "network.shape",
    ),
    "image size changed in the networks too": (
        lambda m: (
            m["input_transform"].update(sample_shape=[16, 16], network_shape=[1, 16, 16]),
            m.update(input_shape_=[16, 16], n_features_in_=16),
            m["network"].update(shape=[1, 16, 16]),
        ),
        "tensors.",
    ),
    "negative shape": (
        lambda m: m["input_transform"].update(sample_shape=[-8, 8]),
        "input_transform.sample_shape",
    ),
    "channels_last text": (
        _set("input_transform", "channels_last", value="no"),
        "input_transform.channels_last",
    ),
    "params not an object": (_set("params", value=[1, 2]), "params"),
    "params unknown key": (lambda m: m["params"].update(bogus=1), "params"),
    "params bad value": (_set("params", "width", value=-4), "params"),
    "params callbacks": (_set("params", "callbacks", value=["rm -rf"]), "params.callbacks"),
    "network width changed": (_set("network", "width", value=8), "tensors.generator"),
    "readout method unknown": (_set("readout", "method", value="magic"), "readout.method"),
    "readout scale zero": (
        lambda m: m["readout"]["components"][0].update(scale=0.0),
        "readout.components[0].scale",
    ),
    "image readout neighbours too many": (
        lambda m: m["readout"]["components"][0].update(
            kind="knn", metric="cosine", n_neighbors=10**6
        ),
        "readout.components[0].n_neighbors",
    ),
    "history not a list": (_set("history", value="epochs"), "history"),
    "device_ number": (_set("device_", value=5), "device_"),
    "feature names wrong length": (_set("feature_names_in_", value=["a"]), "feature_names_in_"),
}

TENSOR_TAMPERING = {
    "NaN weight": (_tensor_edit(lambda t: t.fill_(float("nan"))), "holds NaN"),
    "infinite weight": (_tensor_edit(lambda t: t.fill_(float("inf"))), "holds NaN"),
    "wrong weight shape": (_tensor_edit(lambda t: t[:1]), "has shape"),
    "missing weight": (lambda t: t.pop(_first_weight()(t)), "is missing"),
    "extra weight": (lambda t: t.update({"generator.extra": torch.zeros(2)}), "does not belong"),
    "offset wrong length": (
        lambda t: t.update({"input_transform.offset": torch.zeros(3, dtype=torch.float64)}),
        "input_transform.offset",
    ),
    "scale zero": (
        lambda t: t["input_transform.scale"].zero_(),
        "input_transform.scale",
    ),
    "scale NaN": (
        lambda t: t["input_transform.scale"].fill_(float("nan")),
        "input_transform.scale",
    ),
    "not a tensor": (lambda t: t.update({"input_transform.scale": [1.0]}), "must be a tensor"),
}


@pytest.fixture(scope="module")
def saved(tmp_path_factory, image_model, table_model):
    folder = tmp_path_factory.mktemp("models")
    return {
        "image": image_model.save(folder / "image.pt"),
        "table": table_model.save(folder / "table.pt"),
    }


class TestModelFiles:
    @pytest.mark.parametrize("case", sorted(METADATA_TAMPERING))
    def test_tampered_metadata_is_refused_naming_the_field(self, saved, tmp_path, case):
        edit, field = METADATA_TAMPERING[case]
        kind = "table" if "feature" in case or "shape" not in case else "image"
        kind = "image" if "image" in case or "channels" in case or "negative" in case else kind
        path = tmp_path / "m.pt"
        path.write_bytes(saved[kind].read_bytes())
        _tamper(path, edit_metadata=edit)
        with pytest.raises(ValueError, match=re.escape(f"field '{field}")) as info:
            load(path)
        assert_raised_by_package(info.value)

    @pytest.mark.parametrize("kind", ["image", "table"])
    @pytest.mark.parametrize("case", sorted(TENSOR_TAMPERING))
    def test_tampered_tensors_are_refused_naming_the_field(self, saved, tmp_path, case, kind):
        edit, message = TENSOR_TAMPERING[case]
        if kind == "image" and case == "offset wrong length":
            pass  # an image model stores one offset: three are as wrong
        path = tmp_path / "m.pt"
        path.write_bytes(saved[kind].read_bytes())
        _tamper(path, edit_tensors=edit)
        with pytest.raises(ValueError, match=message) as info:
            load(path)
        assert "field 'tensors." in str(info.value)

    def test_damaged_bytes_are_refused_or_change_nothing(self, table, tmp_path):
        # Bit flips and zeroed runs across a whole file, neighbour codes included:
        # each either fails to load, naming the file, or scores exactly as before.
        model = GANomalyDetector(**{**TINY, "latent_dim": 3}, score_method="latent_knn")
        model.fit(table)
        original = model.save(tmp_path / "original.pt").read_bytes()
        expected = model.score_samples(table)
        damaged, rng = tmp_path / "damaged.pt", np.random.RandomState(0)
        offsets = np.linspace(0, len(original) - 1, 150).astype(int)
        outcomes = {"refused": 0, "unchanged": 0}
        for i, offset in enumerate(offsets):
            data = bytearray(original)
            if i % 2:
                data[offset] ^= 1 << rng.randint(8)
            else:
                data[offset : offset + 8] = bytes(len(data[offset : offset + 8]))
            if data == original:
                continue
            damaged.write_bytes(data)
            try:
                scores = load(damaged).score_samples(table)
            except ValueError as error:
                assert str(damaged) in str(error)
                outcomes["refused"] += 1
                continue
            np.testing.assert_array_equal(scores, expected, err_msg=f"offset {offset}")
            outcomes["unchanged"] += 1
        assert outcomes["refused"] > 100, outcomes

    def test_a_record_that_fails_its_crc_is_refused_naming_it(self, saved, tmp_path):
        import zipfile

        path = tmp_path / "m.pt"
        data = bytearray(saved["table"].read_bytes())
        with zipfile.ZipFile(saved["table"]) as archive:
            record = max(archive.infolist(), key=lambda info: info.file_size)
            # The record's data follows its 30-byte local header, name and extra field.
            start = record.header_offset + 30 + len(record.orig_filename.encode())
            start += int.from_bytes(
                data[record.header_offset + 28 : record.header_offset + 30], "little"
            )
        data[start + record.file_size // 2] ^= 0x10  # one bit of one weight
        path.write_bytes(data)
        with pytest.raises(ValueError, match=f"{path}.*{record.orig_filename}.*CRC-32"):
            load(path)

    @pytest.mark.parametrize("kind", ["sparse", "complex"])
    def test_exotic_tensors_are_refused_naming_the_field(self, saved, tmp_path, kind):
        path = tmp_path / "m.pt"
        path.write_bytes(saved["table"].read_bytes())
        convert = torch.Tensor.to_sparse if kind == "sparse" else lambda t: t.to(torch.complex64)
        _tamper(path, edit_tensors=_tensor_edit(convert))
        with pytest.raises(ValueError, match=f"{path}.*field 'tensors.generator") as info:
            load(path)
        assert_raised_by_package(info.value)

    @pytest.mark.parametrize("depth", [20, 100_000])
    def test_deeply_nested_metadata_is_refused_naming_the_file(self, saved, tmp_path, depth):
        path = tmp_path / "m.pt"
        path.write_bytes(saved["table"].read_bytes())
        payload = torch.load(path, weights_only=True)
        payload["metadata"] = (
            payload["metadata"][:-1] + ', "x": ' + "[" * depth + "]" * depth + "}"
        )
        torch.save(payload, path)
        with pytest.raises(ValueError, match=f"{path} .*nest") as info:
            load(path)
        assert_raised_by_package(info.value)

    def test_untampered_files_still_load(self, saved, images):
        assert np.all(np.isfinite(load(saved["image"]).score_samples(images)))

    def test_other_format_version_is_refused(self, saved, tmp_path):
        path = tmp_path / "m.pt"
        path.write_bytes(saved["table"].read_bytes())
        _tamper(path, edit_metadata=_set("format_version", value=99))
        with pytest.raises(ValueError, match="format version 99"):
            load(path)

    @pytest.mark.parametrize("device", ["cuda", "cuda:3", "mps"])
    def test_unavailable_device_has_its_own_message(self, saved, device):
        kind = device.split(":")[0]
        backend = torch.cuda if kind == "cuda" else torch.backends.mps
        if backend.is_available() and device != "cuda:3":
            pytest.skip(f"{kind} is available here")
        if device == "cuda:3" and torch.cuda.device_count() > 3:
            pytest.skip("this machine has four GPUs")
        with pytest.raises(ValueError, match=f"device='{kind}.*not available|has .* device"):
            load(saved["table"], device=device)

    def test_meta_device_is_refused(self, saved):
        with pytest.raises(ValueError, match="'meta' device"):
            load(saved["table"], device="meta")

    def test_pickle_from_another_version_is_refused(self, table_model, monkeypatch):
        # Pickled as if by another version: the one the pickle records.
        monkeypatch.setattr(sklearn_ganomaly._detector, "__version__", "0.0.1")
        old = pickle.dumps(table_model)
        monkeypatch.undo()
        with pytest.raises(ValueError, match="pickled by sklearn-ganomaly 0.0.1"):
            pickle.loads(old)

    def test_pickle_without_a_version_is_refused(self, table_model):
        state = table_model.__getstate__()
        del state["_sklearn_ganomaly_version"]
        detector = GANomalyDetector.__new__(GANomalyDetector)
        with pytest.raises(ValueError, match="carry no version"):
            detector.__setstate__(state)

    def test_pickle_of_this_version_round_trips(self, table_model, table):
        copy = pickle.loads(pickle.dumps(table_model))
        np.testing.assert_array_equal(copy.score_samples(table), table_model.score_samples(table))


# ------------------------------------------------------ errors name the problem
FIT_MISTAKES = [
    ("None in a list", {}, lambda: [[1.0, None, 3.0, 4.0]] * 20, ValueError, "NaN"),
    ("string in a list", {}, lambda: [[1.0, "a", 3.0, 4.0]] * 20, ValueError, "strings"),
    ("object array", {}, lambda: np.array([[1.0, "a"]] * 20, dtype=object), ValueError, "'a'"),
    (
        "datetime64",
        {},
        lambda: np.arange(80).astype("datetime64[D]").reshape(20, 4),
        ValueError,
        "dates",
    ),
    ("empty axis", {}, lambda: np.zeros((20, 16, 0)), ValueError, "hold no values"),
    ("ragged", {}, lambda: [[1.0, 2.0], [1.0]] * 10, ValueError, "ragged"),
    (
        "negative image_shape",
        {"image_shape": (-1, -16, 16)},
        lambda: np.zeros((20, 256)),
        ValueError,
        "image_shape",
    ),
    ("callbacks", {"callbacks": [object()]}, lambda: np.zeros((20, 4)), TypeError, "callbacks[0]"),
    ("meta device", {"device": "meta"}, lambda: np.zeros((20, 4)), ValueError, "device='meta'"),
    ("empty device", {"device": ""}, lambda: np.zeros((20, 4)), ValueError, "device=''"),
]


class TestErrorsNameTheProblem:
    @pytest.mark.parametrize(
        "params, make_X, error, fragment",
        [case[1:] for case in FIT_MISTAKES],
        ids=[case[0] for case in FIT_MISTAKES],
    )
    def test_fit_mistakes(self, params, make_X, error, fragment):
        with pytest.raises(error, match=fragment.replace("[", r"\[")) as info:
            GANomalyDetector(**{**TINY, **params}).fit(make_X())
        assert_raised_by_package(info.value)

    def test_save_to_an_empty_path(self, table_model, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        with pytest.raises(ValueError, match="path given is empty") as info:
            table_model.save("")
        assert_raised_by_package(info.value)
        assert list(tmp_path.iterdir()) == []

    @pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
    def test_unavailable_cuda(self):
        with pytest.raises(ValueError, match="device='cuda' is not available") as info:
            GANomalyDetector(**{**TINY, "device": "cuda"}).fit(np.zeros((20, 4)))
        assert_raised_by_package(info.value)

    @pytest.mark.parametrize(
        "option, value",
        [("-k", "0"), ("-k", "-2"), ("-k", "1000"), ("--dpi", "100000"), ("--threshold", "nan")],
    )
    def test_cli_report_options_are_bounded(self, cli_model, option, value, capsys):
        root, folder, model = cli_model
        args = ["report", str(folder), "--model", str(model), "--out", str(root / "r")]
        with pytest.raises(SystemExit) as info:
            main([*args, f"{option}={value}"])
        assert info.value.code == 2
        assert f"argument {option}" in capsys.readouterr().err

    @pytest.mark.parametrize(
        "option, value", [("--epochs", "0"), ("--batch-size", "1"), ("--width", "-3")]
    )
    def test_cli_train_options_are_bounded(self, tmp_path, option, value, capsys):
        with pytest.raises(SystemExit) as info:
            main(["train", str(tmp_path), "--out", "m.pt", f"{option}={value}"])
        assert info.value.code == 2
        assert f"argument {option}" in capsys.readouterr().err

    @pytest.mark.parametrize("name", ["=1+2", "+SUM(A1)", "-2", "@cmd", "plain"])
    def test_csv_fields_are_escaped_against_formulas(self, cli_model, tmp_path, monkeypatch, name):
        _, _, model = cli_model
        _write_pngs(tmp_path / name, n=2)
        monkeypatch.chdir(tmp_path)
        assert main(["score", name, "--model", str(model), "--csv", "out.csv"]) == 0
        first = (tmp_path / "out.csv").read_text().splitlines()[1]
        expected = name if name == "plain" else "'" + name
        assert first.startswith(expected + "/img00.png,")


# ---------------------------------------------------------- thread safety kept
def test_concurrent_scoring_is_unchanged_by_the_checks(image_model, images):
    expected = image_model.score_samples(images)
    results = [None] * 4

    def work(i):
        results[i] = image_model.score_samples(images)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        np.testing.assert_allclose(result, expected)
