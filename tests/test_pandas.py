"""DataFrames in and out: no spurious warnings, and the column names are honoured."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_ganomaly import GANomalyDetector

pd = pytest.importorskip("pandas")

TINY = dict(width=4, n_epochs=2, batch_size=32, random_state=0, device="cpu")


@pytest.fixture(scope="module")
def frame():
    rng = np.random.RandomState(0)
    return pd.DataFrame(rng.normal(size=(150, 4)), columns=["a", "b", "c", "d"])


def _no_warnings(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", ConvergenceWarning)  # a tiny fit is short on purpose
        result = call()
    assert not caught, [str(w.message) for w in caught]
    return result


def test_fit_and_score_a_dataframe_without_warnings(frame):
    detector = _no_warnings(lambda: GANomalyDetector(**TINY).fit(frame))
    np.testing.assert_array_equal(detector.feature_names_in_, ["a", "b", "c", "d"])
    for method in ("score_samples", "decision_function", "predict", "anomaly_score", "encode"):
        _no_warnings(lambda m=method: getattr(detector, m)(frame))
    # The same rows as an array score the same.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # scikit-learn notes the missing names
        np.testing.assert_allclose(
            detector.anomaly_score(frame.to_numpy()), detector.anomaly_score(frame)
        )


def test_reordered_columns_are_refused(frame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        detector = GANomalyDetector(**TINY).fit(frame)
    with pytest.raises(ValueError, match="feature names"):
        detector.predict(frame[["d", "c", "b", "a"]])


@pytest.mark.parametrize(
    "method", ["decision_function", "predict", "predict_proba", "predict_confidence"]
)
def test_pyod_adapter_honours_the_column_names(frame, method):
    pytest.importorskip("pyod")
    from sklearn_ganomaly.pyod import GANomaly

    clf = _no_warnings(lambda: GANomaly(**TINY).fit(frame))
    np.testing.assert_array_equal(clf.feature_names_in_, ["a", "b", "c", "d"])
    assert clf.n_features_in_ == 4
    _no_warnings(lambda: getattr(clf, method)(frame))
    with pytest.raises(ValueError, match="feature names"):
        getattr(clf, method)(frame[["d", "c", "b", "a"]])
