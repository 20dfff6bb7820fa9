"""
=========================================
Detecting an unseen digit in 8x8 images
=========================================

GANomaly learns what normal images look like from normal images only, then
flags images whose latent codes land away from those of the normal images.
Here the normal images are the digits 0, 1 and 3-9 of scikit-learn's 8x8
handwritten digits; every 2 is an anomaly the detector never sees in
training.

The detector keeps every default (DCGAN width 32, latent size 100, 150
optimizer steps): a few seconds on a CPU.
"""

# %%
# The paper's one-class split
# ---------------------------
# :func:`~sklearn_ganomaly.datasets.one_class_split` shuffles the normal
# images, keeps 80% for training and puts the other 20% in the test set with
# every image of the anomalous class. ``y_test`` is 1 for an anomaly.

from sklearn.metrics import roc_auc_score

from sklearn_ganomaly import GANomalyDetector
from sklearn_ganomaly.datasets import load_digits_images, one_class_split
from sklearn_ganomaly.plotting import plot_extremes, plot_score_histogram

X, y = load_digits_images()  # (1797, 8, 8), pixels 0-16
X_train, X_test, y_test = one_class_split(X, y, 2, random_state=0)
print(f"train: {len(X_train)} normal; test: {(y_test == 0).sum()} normal + {y_test.sum()} twos")

# %%
# Fitting
# -------
# The detector takes the images as they are: it learns their range at fit and
# scales them to ``[-1, 1]`` itself, and pads them to the networks' square.
# 10% of the training images are held out to choose the epoch whose weights
# are kept, by the validation loss: no label is needed.
#
# The 1,167 images left to train on make 19 batches of 64 an epoch. The
# default ``n_epochs='auto'`` trains images for 150 optimizer steps, in whole
# epochs: 8 epochs here. A fixed ``n_epochs`` under 4 (fewer than 75
# steps, half the budget) would warn that the model may be undertrained.

detector = GANomalyDetector(random_state=0).fit(X_train)
print(f"trained {len(detector.history_)} epochs, kept epoch {detector.best_epoch_}")

# %%
# Scores and the threshold
# ------------------------
# ``anomaly_score`` is higher for more abnormal images. By default
# (``score_method='auto'``, here ``'latent_knn_lof'``) it reads how far an
# image's latent code lies from the codes of the training images (distance to
# the nearest one plus the local outlier factor), as a robust z-score against
# the training images. ``predict`` flags an image (``-1``)
# when its score passes the threshold ``-offset_``, set at fit so that about
# 1% of the training images would be flagged (``contamination='auto'``).

scores = detector.anomaly_score(X_test)
flagged = detector.predict(X_test) == -1
print(f"ROC AUC {roc_auc_score(y_test, scores):.3f}")
print(f"threshold {-detector.offset_:.2f}: flags {flagged[y_test == 1].mean():.0%} of the twos")
print(f"and {flagged[y_test == 0].mean():.0%} of the normal test images")

histogram = plot_score_histogram(
    scores, y_test, threshold=-detector.offset_, title="8x8 digits, 2 anomalous"
)

# %%
# The most and least anomalous test images
# ----------------------------------------
# Each row shows an image, its reconstruction and the residual
# ``|x - x_hat|``: where the reconstruction misses. The score itself reads
# the latent code, which the residual only hints at.

extremes = plot_extremes(detector, X_test, k=3, scores=scores)
