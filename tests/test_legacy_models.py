"""Model files written by sklearn-ganomaly 0.1.0 (commit cec99bc) still load and score the same.

The files in ``tests/data`` were saved by that version's ``save`` with the
scores it gave; a change of the scoring code or of the file format must keep
reading them into detectors that give those scores: the same labels, and
anomaly scores equal to float32 precision (image models score in float32;
that version computed their neighbour distances in float64).
"""

from pathlib import Path

import numpy as np
import pytest

from sklearn_ganomaly import load

DATA = Path(__file__).parent / "data"
CASES = ["images_latent_knn_lof", "table_latent", "table_latent_knn"]


@pytest.fixture(scope="module")
def expected():
    with np.load(DATA / "models_v1_expected.npz") as f:
        return {k: f[k] for k in f.files}


@pytest.mark.parametrize("case", CASES)
def test_file_from_the_first_format_scores_as_it_did(case, expected):
    detector = load(DATA / f"{case}.pt")
    X = expected[f"{case}/X"]
    np.testing.assert_allclose(
        detector.latent_distance(X), expected[f"{case}/latent_distance"], rtol=1e-5, atol=1e-9
    )
    np.testing.assert_allclose(
        detector.anomaly_score(X), expected[f"{case}/anomaly_score"], rtol=1e-5, atol=1e-5
    )
    np.testing.assert_array_equal(detector.predict(X), expected[f"{case}/predict"])
