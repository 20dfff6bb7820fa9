"""The scoring graph computes every read-out as scikit-learn's implementations do.

scikit-learn's ``NearestNeighbors`` and ``LocalOutlierFactor`` are the
reference: in float64, the graph's scores of new samples and the read-out's
leave-one-out training statistics equal theirs to 1e-6.
"""

import numpy as np
import pytest
import torch
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors

from sklearn_ganomaly import GANomalyDetector
from sklearn_ganomaly._neighbours import nearest, prepare
from sklearn_ganomaly._readout import RobustScale, fit_components
from sklearn_ganomaly._scores import SCORE_METHODS
from sklearn_ganomaly._scoring_graph import run_batches, scoring_graph

TINY = dict(width=8, latent_dim=6, n_epochs=2, batch_size=32, random_state=0, device="cpu")


def _sklearn_component(component, references, codes, anchor=None):
    """(leave-one-out training scores of the references, scores of new codes).

    The anchored cosine is scikit-learn's cosine of the codes with the anchor
    appended as one more coordinate.
    """
    k, metric = component.n_neighbors, component.metric
    if metric == "anchored_cosine":
        references = np.c_[references, np.full(len(references), anchor)]
        codes = np.c_[codes, np.full(len(codes), anchor)]
        metric = "cosine"
    if component.kind == "knn":
        index = NearestNeighbors(n_neighbors=k, metric=metric, algorithm="brute")
        index.fit(references)
        return index.kneighbors()[0][:, -1], index.kneighbors(codes)[0][:, -1]
    lof = LocalOutlierFactor(n_neighbors=k, metric=metric, algorithm="brute", novelty=True)
    lof.fit(references)
    return -lof.negative_outlier_factor_, -lof.score_samples(codes)


@pytest.fixture(scope="module")
def data(digits_images):
    X, y = digits_images
    return X[y != 3][:300], np.concatenate([X[y != 3][300:340], X[y == 3][:20]])


@pytest.mark.parametrize("method", sorted(SCORE_METHODS))
def test_the_graph_equals_scikit_learn_in_float64(data, method):
    X_train, X_test = data
    detector = GANomalyDetector(**TINY, score_method=method, n_neighbors=3).fit(X_train)
    readout = detector.readout_
    graph = scoring_graph(
        detector.input_transform_, detector.net_.module_, readout, dtype=torch.float64
    )
    out = run_batches(
        graph,
        X_test,
        {"score": lambda g, x, o: o[0], "latent": lambda g, x, o: o[1], "z": lambda g, x, o: o[2]},
    )
    expected = np.zeros(len(X_test))
    for component, scale in zip(readout.components, readout.scales, strict=True):
        if component.kind == "latent":
            part = out["latent"]
        else:
            references = readout.references.astype(np.float64)
            anchor = readout.anchors.get(component.metric)
            _, part = _sklearn_component(component, references, out["z"], anchor)
        expected += scale(part)
    expected = readout.score(expected)
    np.testing.assert_allclose(out["score"], expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("method", sorted(m for m in SCORE_METHODS if m != "latent"))
def test_training_statistics_are_scikit_learns_leave_one_out(method):
    rng = np.random.RandomState(0)
    references = rng.normal(size=(120, 5)).astype(np.float32)
    latent = rng.uniform(size=120)
    readout, raw = fit_components(method, 4, latent, references, np.arange(120))
    expected = np.zeros(120)
    for component, scale in zip(readout.components, readout.scales, strict=True):
        if component.kind == "latent":
            part = latent
        else:
            anchor = np.median(np.linalg.norm(references.astype(np.float64), axis=1))
            assert readout.anchors.get(component.metric, anchor) == pytest.approx(anchor)
            part, _ = _sklearn_component(
                component,
                references.astype(np.float64),
                references[:1].astype(np.float64),
                anchor,
            )
        reference = RobustScale.fit(part) if len(readout.components) > 1 else RobustScale()
        np.testing.assert_allclose(
            [scale.center, scale.scale], [reference.center, reference.scale]
        )
        expected += scale(part)
    np.testing.assert_allclose(raw, expected, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("metric", ["anchored_cosine", "cosine", "euclidean"])
def test_neighbours_do_not_depend_on_the_chunk_size(metric):
    rng = np.random.RandomState(1)
    references = prepare(torch.as_tensor(rng.normal(size=(50, 4))), metric, 2.0)
    query = prepare(torch.as_tensor(rng.normal(size=(9, 4))), metric, 2.0)
    whole = nearest(query, references, 5, metric)
    chunked = nearest(query, references, 5, metric, chunk=7)
    torch.testing.assert_close(whole[0], chunked[0])
    torch.testing.assert_close(whole[1], chunked[1])
    # Leave-one-out: a reference never finds itself.
    _, own = nearest(references[10:20], references, 3, metric, self_offset=10, chunk=7)
    assert not (own == torch.arange(10, 20)[:, None]).any()
