"""
========================================
Tables: a pipeline on breast-cancer data
========================================

On tables GANomaly uses small multilayer perceptrons instead of convolutional
networks; everything else (training on normal rows only, the scores, the
threshold) works as for images. The detector is a scikit-learn estimator, so
it sits at the end of a :class:`~sklearn.pipeline.Pipeline` like
:class:`~sklearn.ensemble.IsolationForest` would.

Benign tumours are normal here, malignant ones anomalous: the detector is
trained on benign rows only.
"""

# %%
# Data and pipeline
# -----------------
# The detector standardises each feature itself, so the scaler is not needed
# here: it stands for any preprocessing (imputation, PCA, ...) that belongs in
# the pipeline, fitted like the detector on normal rows only.

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ganomaly import GANomalyDetector
from sklearn_ganomaly.datasets import one_class_split
from sklearn_ganomaly.plotting import plot_score_histogram

X, y = load_breast_cancer(return_X_y=True)  # target 0 = malignant
X_train, X_test, y_test = one_class_split(X, y, 0, random_state=0)
print(
    f"train: {len(X_train)} benign rows; test: {(y_test == 0).sum()} benign + "
    f"{y_test.sum()} malignant"
)

# 258 rows train (10% are held out to choose the epoch) in 5 batches an
# epoch. The detector keeps its defaults for a table of 30 features: the
# default ``n_epochs='auto'`` trains tables for 500 optimizer steps, 100
# epochs here; the networks have 64 hidden units and a code of 30 numbers;
# a row is scored by its code's Euclidean distance to the nearest training
# code plus its local outlier factor (``'latent_knn_lof_euclidean'``).
model = make_pipeline(StandardScaler(), GANomalyDetector(random_state=0)).fit(X_train)

# %%
# Scores, in both directions
# --------------------------
# ``score_samples`` follows scikit-learn (higher = more normal);
# ``anomaly_score`` is its negative (higher = more abnormal, as in PyOD).
# ``decision_function`` is ``score_samples - offset_``: negative for the rows
# ``predict`` calls outliers.

detector = model[-1]
rows = model[:-1].transform(X_test)
scores = detector.anomaly_score(rows)
assert np.allclose(scores, -model.score_samples(X_test))
print(f"ROC AUC {roc_auc_score(y_test, scores):.3f}")
print(f"flagged: {(model.predict(X_test) == -1).mean():.0%} of the test rows")

# %%
# Choosing the threshold
# ----------------------
# ``contamination`` sets ``offset_`` from the training rows' scores only.
# ``'auto'`` (the default) assumes clean training data and flags about 1% of
# it; a float flags that share. Another ``contamination`` means another fit;
# with the same ``random_state`` it trains the same network, so only the
# threshold moves.

strict = make_pipeline(
    StandardScaler(),
    GANomalyDetector(contamination=0.1, random_state=0),
).fit(X_train)
for name, pipeline in [("auto", model), ("0.1", strict)]:
    flagged = pipeline.predict(X_test) == -1
    print(
        f"contamination={name}: threshold {-pipeline[-1].offset_:.2f}, flags "
        f"{flagged[y_test == 1].mean():.0%} of malignant, {flagged[y_test == 0].mean():.0%} "
        "of benign test rows"
    )

# %%
# The histogram shows both thresholds; its axis stops at 25, which leaves
# out the malignant rows that score higher.

histogram = plot_score_histogram(
    scores,
    y_test,
    threshold=-detector.offset_,
    bins=np.linspace(scores.min(), 25, 60),
    title="breast cancer, malignant anomalous",
)
histogram.axes[0].axvline(
    -strict[-1].offset_, color="tab:green", linestyle=":", label="contamination=0.1"
)
histogram.axes[0].legend()
