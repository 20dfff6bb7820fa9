"""The PyOD adapter, held to what PyOD's own suite asserts of every detector."""

import importlib
import importlib.util
import inspect
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

pyod = pytest.importorskip("pyod")
from pyod.models.combination import aom, average, maximization, moa  # noqa: E402
from pyod.models.knn import KNN  # noqa: E402
from pyod.models.lof import LOF  # noqa: E402
from pyod.models.lscp import LSCP  # noqa: E402
from pyod.utils.data import generate_data  # noqa: E402
from pyod.utils.utility import standardizer  # noqa: E402

from sklearn_ganomaly import GANomalyDetector  # noqa: E402
from sklearn_ganomaly.pyod import GANomaly, add_to_ad_engine  # noqa: E402

TINY = dict(width=16, n_epochs=5, batch_size=32, learning_rate=2e-3, random_state=0, device="cpu")
ROC_FLOOR = 0.8  # generate_data's outliers are uniform noise around Gaussian inliers


@pytest.fixture(scope="module")
def data():
    X_train, X_test, y_train, y_test = generate_data(
        n_train=200, n_test=100, n_features=4, contamination=0.1, random_state=42
    )
    return X_train, X_test, y_train, y_test


@pytest.fixture(scope="module")
def clf(data):
    return GANomaly(**TINY).fit(data[0])


def test_parameters(clf):
    for attribute in ("decision_scores_", "labels_", "threshold_", "_mu", "_sigma", "detector_"):
        assert getattr(clf, attribute, None) is not None
    assert clf.contamination == 0.1  # PyOD's default


def test_train_scores(clf, data):
    X_train = data[0]
    assert clf.decision_scores_.shape == (len(X_train),)
    assert_allclose(clf.decision_scores_, clf.decision_function(X_train))
    # Training labels are the threshold applied to the training scores.
    assert_array_equal(clf.labels_, clf.predict(X_train))
    assert clf.labels_.mean() == pytest.approx(0.1, abs=0.01)


def test_prediction_scores(clf, data):
    _, X_test, _, y_test = data
    scores = clf.decision_function(X_test)
    assert scores.shape == (len(X_test),)
    assert roc_auc_score(y_test, scores) >= ROC_FLOOR


def test_prediction_labels(clf, data):
    labels = clf.predict(data[1])
    assert labels.shape == (len(data[1]),)
    assert set(np.unique(labels)) <= {0, 1}


@pytest.mark.parametrize("method", ["linear", "unify"])
def test_prediction_proba(clf, data, method):
    proba = clf.predict_proba(data[1], method=method)
    assert proba.shape == (len(data[1]), 2)
    assert proba.min() >= 0 and proba.max() <= 1
    assert_allclose(proba.sum(axis=1), 1)


def test_adapter_takes_the_estimators_parameters_and_defaults():
    detector = inspect.signature(GANomalyDetector).parameters
    adapter = dict(inspect.signature(GANomaly).parameters)
    assert adapter.pop("contamination").default == 0.1  # PyOD's, not the estimator's
    assert list(adapter) == [name for name in detector if name != "contamination"]
    for name, parameter in adapter.items():
        assert parameter.default == detector[name].default, name
    assert GANomaly().get_params().keys() == {"contamination", *adapter}
    with pytest.raises(TypeError, match="n_epoch"):
        GANomaly(n_epoch=3)


def test_model_clone_and_params(clf):
    cloned = clone(clf)
    assert cloned.get_params() == clf.get_params()
    assert not hasattr(cloned, "detector_")
    cloned.set_params(n_epochs=3, contamination=0.2)
    assert cloned.n_epochs == 3 and cloned.contamination == 0.2
    # The wrapped estimator gets every parameter but PyOD's contamination.
    inner = cloned._make_detector().get_params()
    assert inner["n_epochs"] == 3 and inner["contamination"] == "auto"


def test_bad_contamination_is_refused_at_fit(data):
    with pytest.raises(ValueError, match="contamination"):
        GANomaly(contamination=0.7, **TINY).fit(data[0])


def test_images(digits_images):
    X = digits_images[0][:200]
    clf = GANomaly(width=8, n_epochs=1, random_state=0, device="cpu").fit(X)
    assert clf.decision_function(X[:5]).shape == (5,)


# ------------------------------------------------------ PyOD's tooling
def test_score_combination_with_pyod_detectors(clf, data):
    X_train, X_test, _, y_test = data
    detectors = [clf, KNN().fit(X_train), LOF().fit(X_train)]
    train = np.column_stack([d.decision_scores_ for d in detectors])
    test = np.column_stack([d.decision_function(X_test) for d in detectors])
    train_norm, test_norm = standardizer(train, test)
    for combine in (average, maximization):
        combined = combine(test_norm)
        assert combined.shape == (len(X_test),)
        assert roc_auc_score(y_test, combined) >= ROC_FLOOR
    for combine in (aom, moa):
        assert combine(test_norm, n_buckets=3).shape == (len(X_test),)


def test_lscp_ensemble_takes_ganomaly(data):
    X_train, X_test, _, y_test = data
    ensemble = LSCP([GANomaly(**TINY), KNN(), LOF()], random_state=0)
    ensemble.fit(X_train)
    scores = ensemble.decision_function(X_test)
    assert scores.shape == (len(X_test),)
    assert roc_auc_score(y_test, scores) >= ROC_FLOOR


def test_ad_engine_runs_ganomaly_by_name(data):
    from pyod.utils.ad_engine import ADEngine

    X_train, X_test, _, _ = data
    engine = add_to_ad_engine(ADEngine(random_state=0))
    plan = engine.make_plan(["GANomaly"], params=[dict(width=8, n_epochs=1, device="cpu")])
    result = engine.run_detection(X_train, plan, X_test)
    assert isinstance(result["detector"], GANomaly)
    assert result["scores_test"].shape == (len(X_test),)
    assert set(np.unique(result["labels_train"])) <= {0, 1}


# --------------------------------------------------- optional dependency
def test_core_import_pulls_in_neither_pyod_nor_matplotlib():
    # (pandas is left out: scikit-learn itself imports it when it is installed.)
    code = (
        "import sys, sklearn_ganomaly; "
        "print(sorted(m for m in ('pyod', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_adapter_without_pyod_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyod", None)
    monkeypatch.setitem(sys.modules, "pyod.models", None)
    monkeypatch.setitem(sys.modules, "pyod.models.base", None)
    monkeypatch.delitem(sys.modules, "sklearn_ganomaly.pyod")
    with pytest.raises(ImportError, match=r"sklearn-ganomaly\[pyod\]"):
        importlib.import_module("sklearn_ganomaly.pyod")
    monkeypatch.undo()
    importlib.import_module("sklearn_ganomaly.pyod")


def test_suod_ensemble_takes_ganomaly(data):
    pytest.importorskip("suod")
    from pyod.models.suod import SUOD

    X_train, X_test, _, y_test = data
    ensemble = SUOD(
        base_estimators=[GANomaly(**TINY), KNN(), LOF()],
        n_jobs=1,
        combination="average",
        verbose=False,
    )
    ensemble.fit(X_train)
    # SUOD projects and approximates only the detectors it knows by name:
    # GANomaly keeps the original features and is never swapped for a regressor.
    assert ensemble.model_.rp_flags[0, 0] == 0 and ensemble.model_.approx_flags[0, 0] == 0
    assert ensemble.model_.rp_flags[1, 0] == 1  # KNN is projected
    scores = ensemble.decision_function(X_test)
    assert scores.shape == (len(X_test),)
    assert roc_auc_score(y_test, scores) >= ROC_FLOOR


# ------------------------------------------- more of BaseDetector's surface
class _QuartileThresholder:
    """Duck-typed PyThresh thresholder: outliers lie above the upper quartile."""

    def fit(self, scores):
        self.thresh_ = float(np.percentile(scores, 75))
        self.labels_ = self.predict(scores)
        return self

    def predict(self, scores):
        return (np.asarray(scores) > self.thresh_).astype(int)


def test_thresholder_object_as_contamination(data):
    # PyOD lets a PyThresh object stand in for the contamination float: it
    # labels the training scores and its thresh_ becomes threshold_.
    thresholder = _QuartileThresholder()
    clf = GANomaly(contamination=thresholder, **TINY).fit(data[0])
    assert clf.labels_.mean() == pytest.approx(0.25, abs=0.01)
    assert clf.threshold_ == pytest.approx(np.percentile(clf.decision_scores_, 75))
    assert clf.threshold_ != 0  # PyOD replaces a falsy thresh_ with the outlier share
    test_scores = clf.decision_function(data[1])
    np.testing.assert_array_equal(clf.predict(data[1]), test_scores > clf.threshold_)


@pytest.mark.parametrize("contamination", [0.0, 0.51, True, "auto", None])
def test_contamination_not_pyod_refused(data, contamination):
    with pytest.raises(ValueError, match="contamination"):
        GANomaly(contamination=contamination, **TINY).fit(data[0])


def test_lists_are_accepted_like_arrays(clf, data):
    rows = data[1][:5]
    assert_allclose(clf.decision_function(rows.tolist()), clf.decision_function(rows))
    assert clf.predict_proba(rows.tolist()).shape == (5, 2)


def test_feature_bagging_takes_ganomaly(data):
    from pyod.models.feature_bagging import FeatureBagging

    X_train, X_test, _, y_test = data
    ensemble = FeatureBagging(GANomaly(**TINY), n_estimators=2, random_state=0)
    ensemble.fit(X_train)
    assert all(isinstance(e, GANomaly) for e in ensemble.estimators_)
    assert roc_auc_score(y_test, ensemble.decision_function(X_test)) >= ROC_FLOOR


def test_pyod_persistence_round_trip(clf, data, tmp_path):
    from pyod.utils.persistence import load, save

    save(clf, tmp_path / "ganomaly.joblib")
    loaded = load(tmp_path / "ganomaly.joblib", trusted=True)
    assert_allclose(loaded.decision_function(data[1]), clf.decision_function(data[1]))
    assert_array_equal(loaded.predict(data[1]), clf.predict(data[1]))


def test_ad_engine_lists_and_explains_ganomaly():
    from pyod.utils.ad_engine import ADEngine

    engine = add_to_ad_engine(ADEngine())
    for data_type in ("tabular", "image"):
        assert "GANomaly" in {d["name"] for d in engine.list_detectors(data_type=data_type)}
    assert engine.compare_detectors(["GANomaly", "KNN"])[0]["name"] == "GANomaly"
    # Registration is per engine: a fresh engine does not know the name.
    with pytest.raises(ValueError, match="GANomaly"):
        ADEngine().make_plan(["GANomaly"])


def test_ad_engine_knowledge_dir_with_ganomaly_entry(tmp_path):
    # The permanent route the docs describe: a copy of PyOD's knowledge base.
    import json
    import shutil

    from pyod.utils import knowledge
    from pyod.utils.ad_engine import ADEngine

    for source in Path(knowledge.__file__).parent.glob("*.json"):
        shutil.copy(source, tmp_path)
    algorithms = json.loads((tmp_path / "algorithms.json").read_text())
    algorithms["GANomaly"] = add_to_ad_engine(ADEngine()).kb.algorithms["GANomaly"]
    (tmp_path / "algorithms.json").write_text(json.dumps(algorithms))
    engine = ADEngine(knowledge_dir=str(tmp_path), random_state=0)
    detector = engine.build_detector(engine.make_plan(["GANomaly"]))
    assert isinstance(detector, GANomaly)
    assert detector.random_state == 0  # the engine's seed reaches GANomaly


def test_ad_engine_investigation_runs_ganomaly_in_consensus(data):
    from pyod.utils.ad_engine import ADEngine

    X_train = data[0]
    engine = add_to_ad_engine(ADEngine(random_state=0))
    state = engine.plan(engine.start(X_train))
    # Rule routing proposes PyOD's detectors only; GANomaly is added by name.
    state.plans = [
        engine.make_plan(["GANomaly"], params=[dict(width=8, n_epochs=1, device="cpu")]),
        engine.make_plan(["KNN"]),
    ]
    state = engine.analyze(engine.run(state))
    assert [r["status"] for r in state.results] == ["success", "success"]
    assert state.consensus["n_detectors"] == 2
    assert isinstance(state.results[0]["detector"], GANomaly)
    assert state.results[0]["detector_name"] == "GANomaly"
    # The report details the detector PyOD's quality measure ranks first.
    assert "**Detectors run:** 2" in engine.report(state)


# ------------------------------------------------------ the comparison example
def test_compare_example_runs_quick_on_breast_cancer(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = Path(__file__).parents[1] / "examples" / "plot_compare_pyod.py"
    spec = importlib.util.spec_from_file_location("plot_compare_pyod", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    figure = tmp_path / "compare.png"
    example.main(["--quick", "--datasets", "breast_cancer", "--figure", str(figure)])
    table = capsys.readouterr().out
    for name in example.DETECTORS:
        assert f"| breast cancer | {name} |" in table
    assert figure.stat().st_size > 0
