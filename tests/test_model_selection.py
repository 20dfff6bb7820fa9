import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import (
    GridSearchCV,
    ParameterGrid,
    RandomizedSearchCV,
    cross_val_score,
)
from sklearn.neighbors import LocalOutlierFactor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM

from sklearn_ganomaly import GANomalyDetector
from sklearn_ganomaly.model_selection import (
    NormalOnlyFit,
    NormalOnlyKFold,
    anomaly_average_precision_scorer,
    anomaly_mask,
    anomaly_roc_auc_scorer,
    make_anomaly_scorer,
)

TINY = dict(width=4, latent_dim=2, n_epochs=2, batch_size=32, random_state=0, device="cpu")
N_NORMAL, N_ANOMALY = 90, 12


def _data(convention="zero_one", seed=0):
    """Normal rows around 0 and anomalies around 6, interleaved; labels in a convention."""
    rng = np.random.RandomState(seed)
    X = np.vstack([rng.normal(size=(N_NORMAL, 5)), rng.normal(6, 1, size=(N_ANOMALY, 5))])
    anomalous = np.r_[np.zeros(N_NORMAL, bool), np.ones(N_ANOMALY, bool)]
    order = rng.permutation(len(X))
    X, anomalous = X[order], anomalous[order]
    y = anomalous.astype(int) if convention == "zero_one" else np.where(anomalous, -1, 1)
    return X, y, anomalous


class RecordingDetector(GANomalyDetector):
    """GANomalyDetector that keeps the rows it was fitted on (for the refit test)."""

    def fit(self, X, y=None):
        self.X_fit_ = np.array(X, copy=True)
        return super().fit(X, y)


# ------------------------------------------------------------------ labels
@pytest.mark.parametrize(
    "y, convention, expected",
    [
        ([0, 1, 0], "auto", [False, True, False]),
        ([1, -1, 1], "auto", [False, True, False]),
        ([0.0, 1.0], "auto", [False, True]),
        ([False, True], "auto", [False, True]),
        ([0, 0], "auto", [False, False]),
        ([-1, -1], "auto", [True, True]),
        ([1, 1], "zero_one", [True, True]),
        ([1, 1], "sklearn", [False, False]),
    ],
)
def test_anomaly_mask_reads_both_conventions(y, convention, expected):
    assert anomaly_mask(y, convention).tolist() == expected


@pytest.mark.parametrize(
    "y, convention, match",
    [
        ([1, 1, 1], "auto", "ambiguous"),
        ([0, 1, 2], "auto", "Cannot infer"),
        ([-1, 0, 1], "auto", "Cannot infer"),
        ([0, 1], "sklearn", "expects labels"),
        ([-1, 1], "zero_one", "expects labels"),
        ([0, 1], "other", "label_convention"),
    ],
)
def test_anomaly_mask_rejects_unreadable_labels(y, convention, match):
    with pytest.raises(ValueError, match=match):
        anomaly_mask(y, convention)


# ---------------------------------------------------------------- splitter
@pytest.mark.parametrize("convention", ["zero_one", "sklearn"])
@pytest.mark.parametrize("shuffle", [False, True])
def test_splitter_trains_on_normals_and_tests_every_sample_once(convention, shuffle):
    X, y, anomalous = _data(convention)
    cv = NormalOnlyKFold(4, shuffle=shuffle, random_state=0 if shuffle else None)
    tested = []
    for train, test in cv.split(X, y):
        assert not anomalous[train].any()
        assert anomalous[test].any() and (~anomalous[test]).any()
        assert not np.intersect1d(train, test).size
        tested.append(test)
    tested = np.concatenate(tested)
    assert np.array_equal(np.sort(tested), np.arange(len(X)))
    assert cv.get_n_splits(X, y) == 4


@pytest.mark.parametrize("label_convention", ["auto", "zero_one", "sklearn"])
def test_splitter_label_convention_parameter(label_convention):
    convention = "zero_one" if label_convention == "auto" else label_convention
    X, y, anomalous = _data(convention)
    for train, _ in NormalOnlyKFold(3, label_convention=label_convention).split(X, y):
        assert not anomalous[train].any()


def test_splitter_shuffle_is_seeded():
    X, y, _ = _data()

    def folds(random_state):
        cv = NormalOnlyKFold(3, shuffle=True, random_state=random_state)
        return [test.tolist() for _, test in cv.split(X, y)]

    assert folds(0) == folds(0)
    assert folds(0) != folds(1)


def test_splitter_spreads_anomalies_evenly():
    X, y, anomalous = _data()
    counts = [anomalous[test].sum() for _, test in NormalOnlyKFold(5).split(X, y)]
    assert sum(counts) == N_ANOMALY and max(counts) - min(counts) <= 1


@pytest.mark.parametrize(
    "y, match",
    [
        (None, "needs the anomaly labels"),
        (np.r_[np.zeros(20), np.ones(2)], "at least as many anomalies"),
        (np.r_[np.zeros(2), np.ones(20)], "at least as many normal"),
        (np.ones(22), "ambiguous"),
    ],
)
def test_splitter_rejects_unsplittable_labels(y, match):
    with pytest.raises(ValueError, match=match):
        next(NormalOnlyKFold(3).split(np.zeros((22, 1)), y))


def test_splitter_validates_parameters():
    with pytest.raises(ValueError, match="n_splits"):
        next(NormalOnlyKFold(1).split(*_data()[:2]))


@pytest.mark.parametrize("convention", ["zero_one", "sklearn"])
def test_splitter_and_scorer_in_cross_val_score(convention):
    X, y, _ = _data(convention)
    scores = cross_val_score(
        IsolationForest(random_state=0),
        X,
        y,
        cv=NormalOnlyKFold(3, shuffle=True, random_state=0),
        scoring=anomaly_roc_auc_scorer,
    )
    assert scores.shape == (3,) and np.all(scores > 0.95)


def test_splitter_in_randomized_search():
    X, y, _ = _data("sklearn")
    search = RandomizedSearchCV(
        NormalOnlyFit(IsolationForest(random_state=0)),
        {"estimator__n_estimators": [5, 10, 20], "estimator__max_features": [0.5, 1.0]},
        n_iter=2,
        cv=NormalOnlyKFold(3),
        scoring=anomaly_average_precision_scorer,
        random_state=0,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 2
    assert search.best_estimator_.estimator_.max_samples_ == N_NORMAL


# ----------------------------------------------------------------- scorers
@pytest.mark.parametrize(
    "detector",
    [
        IsolationForest(random_state=0),
        LocalOutlierFactor(novelty=True),
        OneClassSVM(gamma=0.1),
        GANomalyDetector(**TINY),
        make_pipeline(StandardScaler(), GANomalyDetector(**TINY)),
        NormalOnlyFit(make_pipeline(StandardScaler(), GANomalyDetector(**TINY))),
    ],
    ids=lambda d: type(d).__name__,
)
@pytest.mark.parametrize(
    "scorer, metric",
    [
        (anomaly_roc_auc_scorer, roc_auc_score),
        (anomaly_average_precision_scorer, average_precision_score),
    ],
)
def test_scorers_rank_anomalies_first_for_any_detector(detector, scorer, metric):
    X, y, anomalous = _data()
    detector = clone(detector).fit(X[~anomalous])
    expected = metric(anomalous, -detector.score_samples(X))
    assert scorer(detector, X, y) == pytest.approx(expected)
    # Same value whichever convention the labels use.
    assert scorer(detector, X, np.where(anomalous, -1, 1)) == pytest.approx(expected)
    assert expected > 0.9


def test_scorer_reads_pyod_sign_convention():
    pyod_adapter = pytest.importorskip("sklearn_ganomaly.pyod")
    X, y, anomalous = _data()
    detector = pyod_adapter.GANomaly(**TINY).fit(X[~anomalous])
    assert anomaly_roc_auc_scorer(detector, X, y) > 0.9


def test_scorer_uses_decision_function_without_score_samples():
    class DecisionOnly:
        def decision_function(self, X):
            return -np.asarray(X)[:, 0]

    X = np.array([[0.0], [1.0], [5.0]])
    assert anomaly_roc_auc_scorer(DecisionOnly(), X, [0, 0, 1]) == 1.0
    with pytest.raises(TypeError, match="neither"):
        anomaly_roc_auc_scorer(object(), X, [0, 0, 1])


def test_make_anomaly_scorer_explicit_convention():
    X, _, anomalous = _data()
    detector = IsolationForest(random_state=0).fit(X[~anomalous])
    # All-inlier labels are ambiguous unless the convention is given.
    with pytest.raises(ValueError, match="ambiguous"):
        anomaly_roc_auc_scorer(detector, X, np.ones(len(X)))
    scorer = make_anomaly_scorer(roc_auc_score, label_convention="sklearn")
    assert scorer(detector, X, np.where(anomalous, -1, 1)) > 0.95
    assert "sklearn" in repr(scorer)
    with pytest.raises(ValueError, match="label_convention"):
        make_anomaly_scorer(roc_auc_score, label_convention="pyod")


# ------------------------------------------------------------ NormalOnlyFit
@pytest.mark.parametrize("convention", ["zero_one", "sklearn"])
def test_normal_only_fit_drops_labelled_anomalies(convention):
    X, y, anomalous = _data(convention)
    model = NormalOnlyFit(RecordingDetector(**TINY)).fit(X, y)
    assert np.array_equal(model.estimator_.X_fit_, X[~anomalous])
    assert model.n_features_in_ == X.shape[1]
    np.testing.assert_allclose(model.score_samples(X), model.estimator_.score_samples(X))
    np.testing.assert_allclose(model.decision_function(X), model.estimator_.decision_function(X))
    assert set(model.fit_predict(X, y)) <= {-1, 1}
    # Without labels every row is taken as normal.
    assert len(NormalOnlyFit(RecordingDetector(**TINY)).fit(X).estimator_.X_fit_) == len(X)


def test_normal_only_fit_rejects_all_anomalies_and_hides_missing_methods():
    with pytest.raises(ValueError, match="No sample is labelled normal"):
        NormalOnlyFit(IsolationForest()).fit(np.zeros((4, 2)), [-1, -1, -1, -1])
    model = NormalOnlyFit(LocalOutlierFactor(novelty=False))
    assert not hasattr(model, "predict")
    assert clone(model).get_params()["estimator__novelty"] is False


# ------------------------------------------------------------- real search
def test_grid_search_picks_best_mean_score_and_refits_on_normals_only():
    X, y, anomalous = _data("sklearn")
    grid = {"estimator__latent_dim": [1, 3], "estimator__w_con": [1.0, 50.0]}
    search = GridSearchCV(
        NormalOnlyFit(RecordingDetector(**TINY)),
        grid,
        cv=NormalOnlyKFold(3, shuffle=True, random_state=0),
        scoring=anomaly_roc_auc_scorer,
    ).fit(X, y)

    results = search.cv_results_
    assert len(results["params"]) == len(ParameterGrid(grid)) == 4
    best = int(np.argmax(results["mean_test_score"]))
    assert search.best_params_ == results["params"][best]
    assert search.best_score_ == results["mean_test_score"][best]
    # The refit model saw exactly the normal rows, none of the anomalies.
    refit = search.best_estimator_.estimator_
    assert np.array_equal(refit.X_fit_, X[~anomalous])
    assert refit.latent_dim_ == search.best_params_["estimator__latent_dim"]


def test_grid_search_without_wrapper_refits_on_anomalies_too():
    # Why NormalOnlyFit exists: the splitter cannot reach the final refit.
    X, y, _ = _data()
    search = GridSearchCV(
        RecordingDetector(**TINY),
        {"w_con": [1.0, 50.0]},
        cv=NormalOnlyKFold(3),
        scoring=anomaly_roc_auc_scorer,
    ).fit(X, y)
    assert len(search.best_estimator_.X_fit_) == len(X)


def test_normal_only_fit_reads_all_ones_as_normal_training_fold():
    X = np.random.RandomState(0).normal(size=(30, 2))
    model = NormalOnlyFit(IsolationForest(random_state=0)).fit(X, np.ones(30))
    assert model.estimator_.max_samples_ == 30
    with pytest.raises(ValueError, match="No sample is labelled normal"):
        NormalOnlyFit(IsolationForest(), label_convention="zero_one").fit(X, np.ones(30))
