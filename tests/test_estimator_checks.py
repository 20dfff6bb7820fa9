"""scikit-learn's estimator checks, with no expected failures."""

from sklearn.utils.estimator_checks import check_param_validation, parametrize_with_checks

from sklearn_ganomaly import GANomalyDetector


def _small_detector():
    return GANomalyDetector(width=8, n_epochs=2, batch_size=32, random_state=0, device="cpu")


@parametrize_with_checks([_small_detector()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_param_validation():
    # scikit-learn's own test suite runs this check on every estimator.
    check_param_validation("GANomalyDetector", _small_detector())
