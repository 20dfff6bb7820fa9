"""The model-selection search on a real Dask cluster (two worker processes)."""

import joblib
import numpy as np
import pytest
import torch

distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")

from sklearn.model_selection import GridSearchCV  # noqa: E402

from sklearn_ganomaly import GANomalyDetector  # noqa: E402
from sklearn_ganomaly.model_selection import (  # noqa: E402
    NormalOnlyFit,
    NormalOnlyKFold,
    anomaly_roc_auc_scorer,
)

TINY = dict(width=4, n_epochs=2, batch_size=32, random_state=0, device="cpu")
GRID = {"estimator__latent_dim": [1, 3], "estimator__w_con": [1.0, 50.0]}


def _data():
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(size=(90, 5)), rng.normal(2.5, 1, size=(12, 5))])
    y = np.r_[np.ones(90, int), -np.ones(12, int)]
    order = rng.permutation(len(X))
    return X[order], y[order]


def _search(n_jobs):
    return GridSearchCV(
        NormalOnlyFit(GANomalyDetector(**TINY)),
        GRID,
        cv=NormalOnlyKFold(3, shuffle=True, random_state=0),
        scoring=anomaly_roc_auc_scorer,
        n_jobs=n_jobs,
    )


def _torch_threads():
    import torch

    return torch.get_num_threads()


@pytest.mark.timeout(120)
def test_grid_search_on_dask_cluster_matches_local_run():
    X, y = _data()
    # Like for like: the workers run torch on one thread, and a different
    # thread count changes the order of float reductions, hence the weights.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        local = _search(n_jobs=1).fit(X, y)
    finally:
        torch.set_num_threads(threads)

    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            worker_dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        # Each worker process runs torch on one thread: two fits on two cores
        # do not oversubscribe them (Dask's nanny sets OMP_NUM_THREADS=1).
        assert set(client.run(_torch_threads).values()) == {1}
        with distributed.get_task_stream(client) as tasks, joblib.parallel_config("dask"):
            remote = _search(n_jobs=-1).fit(X, y)
        workers = set(client.scheduler_info()["workers"])
        used = {task["worker"] for task in tasks.data}

    assert used and used <= workers  # the fits ran on the cluster
    for key in ["mean_test_score"] + [f"split{k}_test_score" for k in range(3)]:
        np.testing.assert_allclose(remote.cv_results_[key], local.cv_results_[key], rtol=1e-12)
    assert remote.best_params_ == local.best_params_
    # Distinct scores: the comparison is not between ties.
    assert len(set(np.round(local.cv_results_["mean_test_score"], 12))) > 1
