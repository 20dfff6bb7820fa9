"""skorch's callbacks through ``callbacks=``, named-callback parameters, and warm starts."""

import json

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    EpochScoring,
    LRScheduler,
    PrintLog,
    ProgressBar,
    TrainEndCheckpoint,
)

from sklearn_ganomaly import GANomalyDetector, load

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = dict(
    width=4,
    latent_dim=2,
    batch_size=16,
    n_epochs=3,
    random_state=0,
    device="cpu",
    score_method="latent",
)


@pytest.fixture(scope="module")
def table():
    return np.random.RandomState(0).normal(size=(120, 5))


class _Flat(Callback):
    """A made-up loss that stops improving after epoch 2; keeps each epoch's weights."""

    def initialize(self):
        self.weights_ = {}
        return self

    def on_epoch_end(self, net, **kwargs):
        epoch = len(net.history)
        net.history.record("made_up", [3.0, 2.0, 2.5, 2.5, 2.5, 2.5][epoch - 1])
        self.weights_[epoch] = {k: v.clone() for k, v in net.module_.state_dict().items()}


class TestEarlyStopping:
    def test_load_best_keeps_the_epoch_that_best_epoch_names(self, table, capsys):
        stop = EarlyStopping(monitor="made_up", patience=2, load_best=True)
        detector = GANomalyDetector(
            **{**TINY, "n_epochs": 6, "verbose": 1}, callbacks=[_Flat(), stop]
        ).fit(table)
        assert len(detector.history_) == 4  # stopped after two epochs without progress
        assert detector.best_epoch_ == 2
        # The generator holds epoch 2's weights.
        epoch_2 = dict(detector.net_.callbacks_)["_Flat"].weights_[2]
        for key, value in detector.net_.module_.state_dict().items():
            assert np.array_equal(epoch_2[key], value), key
        out = capsys.readouterr().out
        assert "Stopping since made_up has not improved in the last 2 epochs." in out
        assert "Restoring best model from epoch 2." in out

    def test_silent_at_verbose_0(self, table, capsys):
        stop = EarlyStopping(monitor="made_up", patience=2, load_best=True)
        GANomalyDetector(**{**TINY, "n_epochs": 6}, callbacks=[_Flat(), stop]).fit(table)
        captured = capsys.readouterr()
        assert captured.out == captured.err == ""


class TestCheckpoints:
    def test_checkpoint_saves_on_the_best_valid_loss(self, table, tmp_path):
        checkpoint = Checkpoint(dirname=tmp_path, f_params="params_{last_epoch[epoch]}.pt")
        detector = GANomalyDetector(**TINY, callbacks=[checkpoint]).fit(table)
        history = detector.history_
        saved = sorted(p.name for p in tmp_path.glob("params_*.pt"))
        best = [row["epoch"] for row in history if row["valid_loss_best"]]
        assert saved == [f"params_{epoch}.pt" for epoch in best]
        assert json.loads((tmp_path / "history.json").read_text())[-1]["epoch"] == best[-1]

    def test_checkpoint_on_best_epoch_and_load_best(self, table, tmp_path):
        checkpoint = Checkpoint(
            dirname=tmp_path, monitor="best_epoch", load_best=True, f_history=None
        )
        detector = GANomalyDetector(**TINY, callbacks=[checkpoint]).fit(table)
        marked = [row["epoch"] for row in detector.history_ if row["event_cp"]]
        assert detector.best_epoch_ == marked[-1]

    def test_train_end_checkpoint_restores_the_kept_weights(self, table, tmp_path):
        end = TrainEndCheckpoint(dirname=tmp_path, f_discriminator="discriminator.pt")
        detector = GANomalyDetector(**TINY, callbacks=[end]).fit(table)
        assert (tmp_path / "train_end_params.pt").exists()
        assert (tmp_path / "train_end_discriminator.pt").exists()
        # Another detector fitted on the same data takes the weights over and
        # then computes the same latent distances.
        other = GANomalyDetector(**{**TINY, "n_epochs": 1, "random_state": 1}).fit(table)
        assert not np.allclose(other.latent_distance(table), detector.latent_distance(table))
        saved = dict(detector.net_.callbacks_)["TrainEndCheckpoint"].checkpoint_
        other.net_.load_params(checkpoint=saved)
        np.testing.assert_allclose(other.latent_distance(table), detector.latent_distance(table))


def test_lr_scheduler_drives_both_optimizers(table):
    scheduler = LRScheduler("StepLR", step_size=1, gamma=0.5)
    detector = GANomalyDetector(**TINY, callbacks=[scheduler]).fit(table)
    net = detector.net_
    assert net.optimizer_.param_groups[0]["lr"] == pytest.approx(2e-4 / 8)
    assert net.optimizer_discriminator_.param_groups[0]["lr"] == pytest.approx(2e-4 / 8)
    lrs = [2e-4, 1e-4, 5e-5]
    assert detector.history_[:, "event_lr"] == pytest.approx(lrs)
    assert detector.history_[:, "event_lr_discriminator"] == pytest.approx(lrs)


def test_progress_bar_and_print_log_report_at_verbose_1(table, capsys):
    GANomalyDetector(**{**TINY, "verbose": 1}, callbacks=[ProgressBar(), PrintLog()]).fit(table)
    captured = capsys.readouterr()
    assert "valid_loss" in captured.out and "train_loss_d" in captured.out
    assert "GANomaly" not in captured.err  # the package's own epoch bar steps aside
    assert "it/s" in captured.err or "%" in captured.err


def test_epoch_scoring_reads_the_validation_rows(table):
    seen = []

    def mean_latent(net, X, y):
        seen.append(len(X))
        x_hat, z, z_hat = net.forward(X)
        assert np.asarray(X).shape == (len(X), table.shape[1])
        return float(((z - z_hat) ** 2).mean())

    detector = GANomalyDetector(
        **TINY,
        callbacks=[
            EpochScoring(mean_latent, name="cached"),
            EpochScoring(mean_latent, name="uncached", use_caching=False),
        ],
    ).fit(table)
    assert seen == [12] * 6  # 10% of 120 rows held out, each epoch, twice
    history = detector.history_
    assert history[:, "cached"] == pytest.approx(history[:, "uncached"], rel=1e-5)
    assert all(isinstance(v, bool) for v in history[:, "cached_best"])


def test_a_user_written_callback_sees_every_event(table):
    class Recorder(Callback):
        def initialize(self):
            self.events_ = []
            return self

        def on_train_begin(self, net, **kwargs):
            self.events_.append("train_begin")

        def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
            self.events_.append((len(dataset_train), len(dataset_valid)))
            net.history.record(
                "generator_norm", float(sum(p.detach().norm() for p in net.module_.parameters()))
            )

        def on_batch_end(self, net, batch=None, training=None, y_pred=None, **kwargs):
            X, y = batch
            assert y is None and len(y_pred) == 3 and len(y_pred[0]) == len(X)

    detector = GANomalyDetector(**TINY, callbacks=[("recorder", Recorder())]).fit(table)
    recorder = dict(detector.net_.callbacks_)["recorder"]
    assert recorder.events_ == ["train_begin"] + [(108, 12)] * 3
    assert len(detector.history_[:, "generator_norm"]) == 3
    # Per-batch rows are dropped after fit: the model does not grow with the batches.
    assert all(row["batches"] == [] for row in detector.history_)
    assert detector.history_[:, "train_batch_count"] == [7, 7, 7]


class TestNamedCallbacks:
    def test_set_params_and_get_params(self):
        detector = GANomalyDetector(callbacks=[("es", EarlyStopping()), PrintLog()])
        detector.set_params(callbacks__es__patience=2, callbacks__PrintLog__keys_ignored=["dur"])
        assert detector.callbacks[0][1].patience == 2
        params = detector.get_params()
        assert params["callbacks__es__patience"] == 2
        assert params["callbacks__PrintLog__keys_ignored"] == ["dur"]
        assert "callbacks__es" not in detector.get_params(deep=False)
        clone(detector)  # scikit-learn's clone accepts the deep parameters

    def test_replace_drop_and_unknown_names(self):
        detector = GANomalyDetector(callbacks=[("es", EarlyStopping)])
        detector.set_params(callbacks__es__patience=4)
        assert isinstance(detector.callbacks[0][1], EarlyStopping)
        assert detector.callbacks[0][1].patience == 4
        detector.set_params(callbacks__es=None)
        assert detector.callbacks == []
        with pytest.raises(ValueError, match="no callback is named 'nope'"):
            detector.set_params(callbacks__nope__patience=1)

    def test_grid_search_tunes_a_callback(self, table):
        stop = EarlyStopping(monitor="valid_loss", patience=5, threshold=10.0)
        search = GridSearchCV(
            GANomalyDetector(**{**TINY, "n_epochs": 4}, callbacks=[("es", stop)]),
            {"callbacks__es__patience": [1, 3]},
            scoring=lambda est, X, y=None: float(np.mean(est.score_samples(X))),
            cv=2,
        ).fit(table)
        assert search.best_estimator_.callbacks[0][1].patience in (1, 3)
        epochs = {
            p: len(
                GANomalyDetector(
                    **{**TINY, "n_epochs": 4},
                    callbacks=[("es", EarlyStopping(patience=p, threshold=10.0))],
                )
                .fit(table)
                .history_
            )
            for p in (1, 3)
        }
        assert epochs == {1: 2, 3: 4}
        assert stop.patience == 5  # the estimator given to the search is untouched


class TestWarmStart:
    def test_continues_weights_and_optimizer_states(self, table):
        detector = GANomalyDetector(**{**TINY, "n_epochs": 2}, warm_start=True).fit(table)
        scores = detector.anomaly_score(table)
        steps = detector.net_.optimizer_.state_dict()["state"][0]["step"].item()
        detector.fit(table)
        assert detector.net_.optimizer_.state_dict()["state"][0]["step"].item() == 2 * steps
        assert len(detector.history_) == 4 and detector.history_[-1]["epoch"] == 4
        assert detector.best_epoch_ in (3, 4)
        assert not np.allclose(detector.anomaly_score(table), scores)
        # The normalisation is refitted: training scores stay robust z-scores.
        assert np.median(detector.anomaly_score(table)) == pytest.approx(0.0, abs=0.2)

    def test_warm_start_false_starts_afresh(self, table):
        detector = GANomalyDetector(**{**TINY, "n_epochs": 2}).fit(table)
        first = detector.anomaly_score(table)
        detector.fit(table)
        assert len(detector.history_) == 2
        np.testing.assert_allclose(detector.anomaly_score(table), first)

    def test_two_epochs_warm_equal_continuing_training(self, table):
        warm = GANomalyDetector(**{**TINY, "n_epochs": 1}, warm_start=True).fit(table)
        warm.fit(table)
        cold = GANomalyDetector(**{**TINY, "n_epochs": 1}).fit(table)
        assert not np.allclose(warm.anomaly_score(table), cold.anomaly_score(table))

    def test_refuses_a_changed_architecture(self, table):
        detector = GANomalyDetector(**TINY, warm_start=True).fit(table)
        with pytest.raises(ValueError, match="width"):
            detector.set_params(width=8).fit(table)

    def test_loaded_detector_continues(self, table, tmp_path):
        detector = GANomalyDetector(**{**TINY, "n_epochs": 1}).fit(table)
        loaded = load(detector.save(tmp_path / "model.pt"))
        loaded.set_params(warm_start=True).fit(table)
        assert len(loaded.history_) == 2

    def test_pyod_adapter(self, table):
        pyod = pytest.importorskip("sklearn_ganomaly.pyod")
        clf = pyod.GANomaly(**{**TINY, "n_epochs": 1}).fit(table)
        before = clf.decision_scores_.copy()
        clf.train_more(table, epochs=2)
        assert len(clf.detector_.history_) == 3
        assert clf.n_epochs == clf.detector_.n_epochs == 1
        assert not clf.detector_.warm_start
        assert not np.allclose(clf.decision_scores_, before)
        clf.set_params(warm_start=True).fit(table)
        assert len(clf.detector_.history_) == 4
        clf.set_params(warm_start=False).fit(table)
        assert len(clf.detector_.history_) == 1
