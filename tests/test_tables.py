"""Tables: the defaults follow the table's shape, and no table is scored inverted.

The paper's latent distance, read off a code of a quarter of the features
(one number below eight features), scored whole tables below 0.5: it measures
how consistently the networks re-encode their own reconstruction, not how far
a row lies from the normal rows, so a row in a hole of the normal data (between
two clusters, inside a ring), which the networks map between normal codes and
reproduce consistently, looks more normal than the normal rows at the edges.
The default read-out measures the distance of a row's code to the training
rows' codes, which a hole does not hide.
"""

import warnings

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from sklearn_ganomaly import GANomalyDetector
from sklearn_ganomaly.networks import network_sizes


def _hole_case(kind, seed=0):
    rng = np.random.RandomState(seed)
    if kind == "between two clusters":
        normal = np.vstack([rng.normal(size=(300, 3)) - 3, rng.normal(size=(300, 3)) + 3])
        anomalies = rng.normal(size=(60, 3)) * 0.5
    else:  # inside a ring
        angle = rng.uniform(0, 2 * np.pi, 600)
        normal = np.c_[np.cos(angle), np.sin(angle), rng.normal(size=600) * 0.1] * 3
        anomalies = rng.normal(size=(60, 3)) * 0.3
    X_test = np.vstack([normal[450:], anomalies])
    y_test = np.r_[np.zeros(150), np.ones(60)]
    return normal[:450], X_test, y_test


@pytest.mark.parametrize("kind", ["between two clusters", "inside a ring"])
def test_rows_in_a_hole_of_the_normal_data_are_not_scored_inverted(kind):
    X_train, X_test, y_test = _hole_case(kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        previous = GANomalyDetector(
            score_method="latent", latent_dim=1, width=32, n_epochs=15, random_state=0
        ).fit(X_train)
    # The previous defaults for a 3-feature table: inverted.
    assert roc_auc_score(y_test, previous.anomaly_score(X_test)) < 0.5
    detector = GANomalyDetector(random_state=0).fit(X_train)
    assert roc_auc_score(y_test, detector.anomaly_score(X_test)) > 0.95


@pytest.mark.parametrize(
    "d, latent_dim, width", [(3, 3, 64), (40, 40, 80), (200, 128, 256), (1555, 128, 256)]
)
def test_table_sizes_follow_the_number_of_features(d, latent_dim, width):
    assert network_sizes((d,)) == (latent_dim, width)
    assert network_sizes((1, 28, 28)) == (100, 32)
    assert network_sizes((d,), latent_dim=5, width=7) == (5, 7)


def test_tables_default_to_the_euclidean_neighbour_read_out_in_float32(blobs):
    detector = GANomalyDetector(n_epochs=1, random_state=0, device="cpu").fit(blobs)
    assert detector.score_method_ == "latent_knn_lof_euclidean"
    assert detector.latent_dim_ == blobs.shape[1]
    assert detector.net_.autocast_dtype is None
