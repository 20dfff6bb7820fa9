"""``GANomalyDetector``: GANomaly under scikit-learn's outlier-detector contract."""

import copy
from numbers import Integral, Real
from os import PathLike
from pathlib import Path

import numpy as np
import torch
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.history import History

from ._callback_params import CallbackParamsMixin
from ._checks import (
    check_fit_values,
    check_numeric_input,
    check_sample_shape,
    check_scoring_input,
    check_training_scores,
    flag_undefined_decisions,
)
from ._compat import Interval, StrOptions, fit_context
from ._device import check_device, resolve_device
from ._estimator_checks import check_fit_params, check_network_size, check_pickle_version
from ._inputs import fit_input_transform
from ._persistence import inconsistent_model, read_model, save_detector
from ._scores import SCORE_METHODS, resolve_score_method
from ._scoring_graph import detector_graph, fit_readout, run_batches
from ._training import (
    TrainingPlan,
    build_net,
    prepare_continuation,
    seed_from,
    split_rows,
    train,
    warm_start_changes,
)
from ._version import __version__
from .losses import ENCODER_LOSSES
from .networks import network_sizes

__all__ = ["PAPER_CONFIG", "GANomalyDetector", "load"]

#: The paper's configuration (Akcay et al., 2018, with the authors' learning
#: rate): DCGAN width 64, a 100-dimensional code, 15 epochs, scored by the
#: latent distance. ``GANomalyDetector(**PAPER_CONFIG)`` reproduces it.
PAPER_CONFIG = {
    "score_method": "latent",
    "width": 64,
    "latent_dim": "auto",
    "n_epochs": 15,
    "learning_rate": 2e-4,
    "w_adv": 1.0,
    "w_con": 50.0,
    "w_enc": 1.0,
}


class GANomalyDetector(CallbackParamsMixin, OutlierMixin, BaseEstimator):
    """GANomaly anomaly detector trained on normal data only.

    GANomaly (Akcay et al., ACCV 2018) trains an encoder-decoder-encoder
    generator ``x -> z -> x_hat -> z_hat`` against a discriminator on normal
    samples. The paper scores a sample by how far its re-encoded code
    ``z_hat`` lands from ``z``; by default this detector scores it by how far
    its code ``z`` lies from the codes of the normal training samples (see
    ``score_method``), which the benchmarks found far better. Images get DCGAN
    convolutional networks, tabular data multilayer perceptrons.

    Parameters
    ----------
    latent_dim : int or 'auto', default='auto'
        Size of the latent code ``z``. ``'auto'`` is 100 for images (the
        paper's ``nz``) and ``min(d, 128)`` for ``d`` tabular features: a
        code as wide as the table, which the neighbour read-out needs.
    width : int or 'auto', default='auto'
        Base width of the networks: DCGAN filters in the first layer (the
        paper's 64) or hidden units of the tabular MLPs. ``'auto'`` is 32 for
        images (half the paper's width: about a third of its training time,
        and codes the neighbour scores read as well) and
        ``min(256, max(64, 2 * d))`` for ``d`` tabular features.
    n_epochs : int or 'auto', default='auto'
        Training epochs. ``'auto'`` trains for a number of optimizer steps
        chosen on the benchmarks' development splits, in whole epochs (at
        least one): 150 steps for images, 500 for tables, so a small data
        set is seen many times and a large one once or twice. An int trains
        that many epochs (the paper trains 15 on MNIST); one that takes fewer
        than half the ``'auto'`` steps warns that the model may be
        undertrained (``ConvergenceWarning``). The development study in the
        documentation shows detection quality against the budget.
    batch_size : int, default=64
        Training batch size (the paper's 64).
    learning_rate : float or 'auto', default='auto'
        Adam learning rate for both networks. ``'auto'`` is 1e-3 for images
        and 2e-4 for tables, chosen with the ``'auto'`` budgets on the
        benchmarks' development splits: images reached the same detection
        quality in about a third of the optimizer steps at 1e-3 as at 2e-4.
        The paper states 2e-3; the authors' code and anomalib use 2e-4
        (``PAPER_CONFIG`` keeps it).
    beta1 : float, default=0.5
        Adam's first-moment decay (the paper's 0.5; ``beta2`` is 0.999).
    w_adv : float, default=1
        Weight of the adversarial (feature-matching) loss, Eq. 1.
    w_con : float, default=50
        Weight of the contextual (L1 reconstruction) loss, Eq. 2.
    w_enc : float, default=1
        Weight of the encoder (latent) loss, Eq. 3.
    encoder_loss : {'l2', 'l1', 'smooth_l1'}, default='l2'
        Norm of the encoder loss: ``'l2'`` is the mean squared error of the
        authors' code (the same quantity as the anomaly score), ``'l1'`` the
        absolute error, ``'smooth_l1'`` anomalib's choice.
    score_method : {'auto', 'latent', 'latent_knn', 'latent_lof', \
            'latent_knn_lof', 'latent_knn_euclidean', 'latent_lof_euclidean', \
            'latent_knn_lof_euclidean'}, default='auto'
        What makes a sample anomalous. ``'latent'`` is the paper's latent
        distance ``mean((z - z_hat) ** 2)``. The others read the encoder's
        code ``z`` against the codes of the training data (kept at fit, see
        ``reference_codes_``): ``'latent_knn'`` is the distance to the
        ``n_neighbors``-th nearest training code, ``'latent_lof'`` the local
        outlier factor over 10 neighbours, and ``'latent_knn_lof'`` the sum of
        the two as robust z-scores. They compare codes by their angle with an
        anchor coordinate that makes a code much longer or shorter than the
        training codes far from all of them (the anchored cosine); the
        ``'_euclidean'`` variants by their Euclidean distance. Their training
        statistics are leave-one-out (a training sample is never its own
        neighbour). ``'auto'`` is ``'latent_knn_lof'`` for images and
        ``'latent_knn_lof_euclidean'`` for tables, the best of each on the
        benchmarks' development splits (see the documentation); the choice is
        stored in ``score_method_``.
    n_neighbors : int, default=1
        The neighbour whose distance ``'latent_knn'`` (and the knn part of
        ``'latent_knn_lof'``) reads.
    image_shape : tuple of int (C, H, W) or None, default=None
        Shape of one image when ``X`` holds flat rows of pixels (or to say
        which axis holds the channels of ambiguous 4-D input). ``None`` treats
        2-D input as tabular.
    contamination : 'auto' or float in (0, 0.5], default='auto'
        Expected proportion of outliers, which sets ``offset_``. A float puts
        the threshold at that quantile of the training samples' scores.
        ``'auto'`` assumes clean normal training data and aims at a 1% false
        alarm rate: the threshold is the 99th percentile of the training
        samples' anomaly scores.
    validation_fraction : float in [0, 1), default=0.1
        Share of the training data held out (shuffled with ``random_state``)
        to pick the best epoch: the weights kept are those with the lowest
        ``valid_loss``, ``w_con * L_con + w_enc * L_enc`` on the held-out
        normal rows, an unsupervised criterion. With no held-out rows the last
        epoch is kept.
    device : str, default='auto'
        Torch device to train on. ``'auto'`` picks cuda, then mps, then cpu at
        fit time and stores the choice in ``device_``.
    callbacks : list of skorch callbacks or None, default=None
        Extra skorch callbacks (``EarlyStopping``, ``Checkpoint``,
        ``LRScheduler``, ``EpochScoring``, ``PrintLog``, ``ProgressBar``, your
        own ``Callback``), or ``(name, callback)`` pairs; they are deep-copied
        at fit. As in skorch, ``set_params(callbacks__<name>__<param>=...)``
        tunes a callback (its class name when it has no name of its own),
        also in ``GridSearchCV``. Each ``LRScheduler`` drives both
        optimizers, the generator's and the discriminator's.
        ``EarlyStopping(load_best=True)`` and ``Checkpoint(load_best=True)``
        choose the weights kept, and ``best_epoch_`` then names their epoch.
        See the user guide for the history keys callbacks can read.
    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the validation split and the batch
        order through private generators; global random states are never
        touched. Pass an int for reproducible fits: on CPU, two fits with
        the same int, torch version and number of torch threads give
        identical scores (another thread count sums floats in another order,
        which moves the weights slightly); GPU kernels may not be
        deterministic.
    verbose : int, default=0
        0 is silent; 1 or more shows a progress bar over epochs with losses
        (unless a ``PrintLog`` or ``ProgressBar`` callback reports progress),
        lets callbacks such as ``EarlyStopping`` and ``PrintLog`` print, and
        shows a progress bar (on stderr) while scoring, encoding or
        reconstructing more than 10,000 samples; 2 or more shows it for any
        number of samples.
    precision : {'auto', 'bf16', 'fp32'}, default='auto'
        Training precision. ``'bf16'`` runs the forward passes under bfloat16
        autocast (weights and optimizer stay float32); ``'auto'`` uses it on
        CUDA devices that support bfloat16 and on CPUs that compute it
        natively (AMX or AVX-512-BF16, read from the Linux CPU flags), where
        it trains about twice as fast with no loss of detection quality in the
        benchmarks, and float32 elsewhere; ``'fp32'`` opts out. Scoring
        always runs in float32 (float64 for tabular nets).
    channels_last : 'auto' or bool, default='auto'
        Store image tensors and convolution weights channels-last, the layout
        tensor cores want; ``'auto'`` enables it on CUDA only.
    compile : bool, default=False
        Compile the networks with ``torch.compile`` for training (a one-off
        compilation cost that pays off on long GPU runs).
    warm_start : bool, default=False
        When True, ``fit`` on a fitted detector continues training from its
        weights and optimizer states for ``n_epochs`` more epochs (the
        history goes on counting epochs), then refits the score normalisation
        and the threshold on the data given. The input layout and scaling,
        the networks' sizes and the device stay those of the first fit. A
        detector from :func:`sklearn_ganomaly.load` continues from its weights
        with fresh optimizer states. When False, every ``fit`` starts afresh.

    Attributes
    ----------
    net_ : GANomalyNet
        The fitted skorch net; ``net_.module_`` is the generator,
        ``net_.discriminator_`` the discriminator.
    history_ : skorch.History
        Per-epoch losses, ``best_epoch`` marks, and ``dur`` (the keys are
        listed in the user guide).
    best_epoch_ : int
        Epoch (1-based, counted over the fits of a warm start) whose weights
        were kept.
    device_ : str
        The device resolved from ``device``.
    input_transform_ : InputTransform
        The layout and scaling learnt from the training data.
    input_shape_ : tuple of int
        Shape of one training sample, as given.
    n_features_in_ : int
        ``X.shape[1]`` of the training data, as scikit-learn records it for
        any input: the number of features of a table, or the first axis of an
        image sample (H for ``(n, H, W)`` images); ``input_shape_`` holds the
        whole sample shape.
    latent_dim_ : int
        The latent size used.
    score_method_ : str
        The score used: ``score_method`` with ``'auto'`` resolved.
    score_center_, score_scale_ : float
        Median and scaled median absolute deviation of the training samples'
        raw scores (see ``score_method``); the anomaly score is
        ``(raw - score_center_) / score_scale_``.
    train_anomaly_scores_ : ndarray of shape (n_samples,)
        Anomaly scores of the training samples, leave-one-out for the
        neighbour scores; ``offset_`` is their quantile. Not kept by
        :meth:`save`.
    reference_codes_ : ndarray of shape (n_reference, ``latent_dim_``)
        Training codes the neighbour scores compare with (neighbour scores
        only): all training samples, or a random subsample of 20,000 above
        that, which bounds memory at ``20000 * latent_dim_`` floats and a
        query at as many distance evaluations.
    offset_ : float
        ``decision_function = score_samples - offset_``.

    See Also
    --------
    sklearn.ensemble.IsolationForest : Same outlier-detector interface.

    Notes
    -----
    Scores never depend on the other samples scored with them: BatchNorm runs
    in evaluation mode, and the normalisation is fitted once on the training
    data and stored (the paper and its code min-max the scores over the test
    set instead). Tabular networks score in float64, which makes a sample's
    score the same to ~1e-12 alone or in any batch.

    References
    ----------
    S. Akcay, A. Atapour-Abarghouei and T. P. Breckon, "GANomaly:
    Semi-Supervised Anomaly Detection via Adversarial Training", ACCV 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ganomaly import GANomalyDetector
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 4))
    >>> detector = GANomalyDetector(n_epochs=2, random_state=0).fit(X)
    >>> detector.predict([[0.0, 0.0, 0.0, 0.0], [8.0, -8.0, 8.0, -8.0]])
    array([ 1, -1])
    """

    _parameter_constraints: dict = {
        "latent_dim": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "width": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "n_epochs": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "beta1": [Interval(Real, 0, 1, closed="left")],
        "w_adv": [Interval(Real, 0, None, closed="left")],
        "w_con": [Interval(Real, 0, None, closed="left")],
        "w_enc": [Interval(Real, 0, None, closed="left")],
        "encoder_loss": [StrOptions(set(ENCODER_LOSSES))],
        "score_method": [StrOptions({"auto", *SCORE_METHODS})],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "image_shape": [tuple, list, None],
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "device": [str, torch.device],
        "callbacks": [list, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "precision": [StrOptions({"auto", "bf16", "fp32"})],
        "channels_last": [StrOptions({"auto"}), "boolean"],
        "compile": ["boolean"],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        *,
        latent_dim="auto",
        width="auto",
        n_epochs="auto",
        batch_size=64,
        learning_rate="auto",
        beta1=0.5,
        w_adv=1.0,
        w_con=50.0,
        w_enc=1.0,
        encoder_loss="l2",
        score_method="auto",
        n_neighbors=1,
        image_shape=None,
        contamination="auto",
        validation_fraction=0.1,
        device="auto",
        callbacks=None,
        random_state=None,
        verbose=0,
        precision="auto",
        channels_last="auto",
        compile=False,
        warm_start=False,
    ):
        self.latent_dim = latent_dim
        self.width = width
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.beta1 = beta1
        self.w_adv = w_adv
        self.w_con = w_con
        self.w_enc = w_enc
        self.encoder_loss = encoder_loss
        self.score_method = score_method
        self.n_neighbors = n_neighbors
        self.image_shape = image_shape
        self.contamination = contamination
        self.validation_fraction = validation_fraction
        self.device = device
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose
        self.precision = precision
        self.channels_last = channels_last
        self.compile = compile
        self.warm_start = warm_start

    # ------------------------------------------------------------------ fit
    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: object = None) -> "GANomalyDetector":
        """Train GANomaly on normal samples ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or image array
            Normal training data: a table ``(n, d)``, images ``(n, H, W)``,
            ``(n, H, W, C)`` or ``(n, C, H, W)``, or flat pixel rows with
            ``image_shape``. Any numeric range; a numpy memmap is read batch
            by batch.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : GANomalyDetector
            The fitted detector.

        Notes
        -----
        A fit that fails or is interrupted leaves no half-fitted detector: a
        fresh fit leaves it unfitted (a previous fit does not survive), and a
        ``warm_start`` continuation leaves the previously fitted model as it
        was.
        """
        continuing = self.warm_start and hasattr(self, "net_")
        previous = dict(vars(self))
        try:
            check_fit_params(self)
            X = check_numeric_input(X)
            return self._continue_fit(X) if continuing else self._fit_afresh(X)
        except BaseException:
            if continuing:
                # The continuation trained a copy: put the previous model back.
                self.__dict__.clear()
                self.__dict__.update(previous)
            else:
                for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
                    delattr(self, name)
            raise

    def _fit_afresh(self, X):
        X = validate_data(self, X, allow_nd=True, dtype="numeric", ensure_min_samples=2)
        check_sample_shape(X)
        transform = fit_input_transform(X, self.image_shape)
        check_fit_values(X, transform.is_image)
        latent_dim, width = network_sizes(transform.network_shape, self.latent_dim, self.width)
        method = _score_method(self.score_method, transform.is_image, latent_dim)
        check_network_size(transform.network_shape, latent_dim, width)
        plan = TrainingPlan.from_params(
            {**self.get_params(deep=False), "width": width},
            transform.network_shape,
            latent_dim,
            resolve_device(self.device),
        )
        seed = seed_from(self.random_state)
        train_index, valid_index = split_rows(len(X), self.validation_fraction, seed)
        net = build_net(plan, torch.Generator().manual_seed(seed), n_train=len(train_index))
        best_epoch = train(net, plan, X, train_index, valid_index, transform)
        return self._set_fitted(X, net, plan, transform, best_epoch, method, seed)

    def _continue_fit(self, X):
        """``fit`` with ``warm_start=True`` on a fitted detector: train on."""
        X = validate_data(
            self, X, allow_nd=True, dtype="numeric", ensure_min_samples=2, reset=False
        )
        transform = self.input_transform_
        transform.check_shape(X, type(self).__name__)
        check_fit_values(X, transform.is_image)
        latent_dim, width = network_sizes(transform.network_shape, self.latent_dim, self.width)
        plan = TrainingPlan.from_params(
            {**self.get_params(deep=False), "width": width},
            transform.network_shape,
            latent_dim,
            resolve_device(self.device),
        )
        changes = warm_start_changes(self.net_, plan)
        if changes:
            raise ValueError(
                f"warm_start=True continues the fitted networks, but {' and '.join(changes)} "
                "changed; restore them, or set warm_start=False to train afresh."
            )
        method = _score_method(self.score_method, transform.is_image, latent_dim)
        seed = seed_from(self.random_state)
        train_index, valid_index = split_rows(len(X), self.validation_fraction, seed)
        # Train a copy: an interrupted or failed continuation keeps the fitted model.
        net = prepare_continuation(copy.deepcopy(self.net_), plan, len(train_index), seed)
        best_epoch = train(net, plan, X, train_index, valid_index, transform)
        return self._set_fitted(X, net, plan, transform, best_epoch, method, seed)

    def _set_fitted(self, X, net, plan, transform, best_epoch, method, seed):
        """Fit the read-out on the trained networks, then set every fitted attribute."""
        readout, training_scores = fit_readout(
            net.module_,
            transform,
            X,
            method.name,
            n_neighbors=self.n_neighbors,
            seed=seed,
            batch_size=self.batch_size,
            channels_last=plan.channels_last_layout,
        )
        check_training_scores(training_scores, X)
        self.net_, self.readout_ = net, readout
        self.input_transform_, self.input_shape_ = transform, transform.sample_shape
        self.device_, self.latent_dim_, self.best_epoch_ = plan.device, plan.latent_dim, best_epoch
        self.train_anomaly_scores_ = training_scores
        contamination = 0.01 if self.contamination == "auto" else self.contamination
        self.offset_ = float(np.percentile(-training_scores, 100.0 * contamination))
        return self

    # ------------------------------------------------------ fitted read-out
    @property
    def history_(self):
        """Per-epoch training history (a skorch ``History``)."""
        check_is_fitted(self)
        return self.net_.history_

    @property
    def score_method_(self) -> str:
        """The score used: ``score_method`` with ``'auto'`` resolved."""
        return self.readout_.method

    @property
    def score_center_(self) -> float:
        """Centre of the training samples' raw scores (their median)."""
        return self.readout_.score.center

    @property
    def score_scale_(self) -> float:
        """Spread of the training samples' raw scores (scaled median absolute deviation)."""
        return self.readout_.score.scale

    @property
    def reference_codes_(self) -> np.ndarray:
        """The training codes the neighbour scores compare with (neighbour scores only)."""
        references = self.readout_.references
        if references is None:
            raise AttributeError(
                f"score_method={self.score_method_!r} keeps no reference codes; only the "
                "neighbour scores do."
            )
        return references

    # -------------------------------------------------------------- scoring
    def _run(self, X, outputs, desc="Scoring", into=None):
        X = check_scoring_input(self, X)
        return run_batches(
            detector_graph(self),
            X,
            outputs,
            batch_size=self.batch_size,
            verbose=self.verbose,
            desc=desc,
            into=into(len(X)) if into else None,
        )

    def encode(self, X: ArrayLike) -> np.ndarray:
        """Latent codes ``z = G_E(x)`` of the samples.

        Parameters
        ----------
        X : array-like
            Samples in the layout used at fit.

        Returns
        -------
        Z : ndarray of shape (n_samples, ``latent_dim_``)
            The encoder's codes, float64.
        """
        into = lambda n: {"z": np.empty((n, self.latent_dim_))}  # noqa: E731
        return self._run(X, {"z": lambda g, x, out: out[2]}, "Encoding", into)["z"]

    def latent_distance(self, X: ArrayLike) -> np.ndarray:
        """Raw GANomaly anomaly score ``A(x) = mean((z - z_hat) ** 2)``.

        Parameters
        ----------
        X : array-like
            Samples in the layout used at fit.

        Returns
        -------
        distances : ndarray of shape (n_samples,)
            Latent distances; higher means more abnormal.
        """
        return self._run(X, {"latent": lambda g, x, out: out[1]})["latent"]

    def anomaly_score(self, X: ArrayLike) -> np.ndarray:
        """Normalised anomaly score, higher = more abnormal (PyOD's direction).

        The raw score chosen by ``score_method`` (the latent distance, or a
        neighbour score of the codes against the training codes) as a robust
        z-score against the training data, ``(raw - score_center_) /
        score_scale_``; equal to ``-score_samples(X)``.

        Parameters
        ----------
        X : array-like
            Samples in the layout used at fit.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Anomaly scores.
        """
        return self._run(X, {"score": lambda g, x, out: out[0]})["score"]

    def score_samples(self, X: ArrayLike) -> np.ndarray:
        """Normality score, higher = more normal (scikit-learn's direction).

        Parameters
        ----------
        X : array-like
            Samples in the layout used at fit.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            ``-anomaly_score(X)``.
        """
        return -self.anomaly_score(X)

    def decision_function(self, X: ArrayLike) -> np.ndarray:
        """Shifted normality score: negative for outliers.

        Parameters
        ----------
        X : array-like
            Samples in the layout used at fit.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            ``score_samples(X) - offset_``. A sample whose score is NaN or
            infinite gets ``-inf`` (an outlier), with a
            ``NonFiniteScoreWarning``: an undefined score is never normal.
        """
        return flag_undefined_decisions(self.score_samples(X) - self.offset_)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Label samples as inliers (+1) or outliers (-1).

        Parameters
        ----------
        X : array-like
            Samples in the layout used at fit.

        Returns
        -------
        labels : ndarray of shape (n_samples,), dtype int
            +1 for inliers, -1 for outliers.
        """
        return np.where(self.decision_function(X) < 0, -1, 1)

    def reconstruct(self, X: ArrayLike) -> np.ndarray:
        """Reconstruction ``x_hat = G_D(G_E(x))`` in the input's space and shape.

        Parameters
        ----------
        X : array-like
            Samples in the layout used at fit.

        Returns
        -------
        X_hat : ndarray of the shape of ``X``
            Reconstructions, rescaled to the training data's range.
        """
        into = lambda n: {"x_hat": np.empty((n, *self.input_shape_))}  # noqa: E731
        outputs = {"x_hat": lambda graph, x, out: graph.reconstruct_input(x)}
        return self._run(X, outputs, "Reconstructing", into)["x_hat"]

    def save(self, path: str | PathLike[str]) -> Path:
        """Save the fitted detector as tensors plus JSON metadata (no pickle).

        Parameters
        ----------
        path : str or path-like
            Destination file; load it back with :func:`sklearn_ganomaly.load`.

        Returns
        -------
        path : pathlib.Path
            The file written.
        """
        check_is_fitted(self)
        return save_detector(self, path)

    def export_onnx(self, path: str | PathLike[str], *, latent_distance: bool = False) -> Path:
        """Export the scoring to an ONNX graph (needs the ``onnx`` extra).

        The graph is the module that scores in Python: it takes samples as
        ``fit`` took them (the same layout and units, as float32) with the
        fitted scaling inside, runs the generator and the read-out of
        ``score_method_`` (neighbour searches against the stored reference
        codes included), and returns their anomaly scores, as
        :meth:`anomaly_score` does, to float32 precision.

        Parameters
        ----------
        path : str or path-like
            Destination ``.onnx`` file.
        latent_distance : bool, default=False
            Also return the raw latent distance (:meth:`latent_distance`) as
            a second output, ``"latent_distance"``.

        Returns
        -------
        path : pathlib.Path
            The file written. Its input, ``"input"``, has shape ``(batch,
            *input_shape_)``, dtype float32, and a dynamic batch axis; an input
            of another shape is refused by the ONNX runtime. Its first output,
            ``"anomaly_score"``, has shape ``(batch,)``; the threshold
            ``-offset_`` is in the model's metadata as ``anomaly_threshold``.

        Examples
        --------
        >>> import tempfile
        >>> import numpy as np
        >>> import onnxruntime
        >>> from sklearn_ganomaly import GANomalyDetector
        >>> X = np.random.RandomState(0).normal(size=(100, 4))
        >>> detector = GANomalyDetector(
        ...     n_epochs=1, width=4, latent_dim=2, score_method="latent_knn_lof", random_state=0
        ... ).fit(X)
        >>> path = detector.export_onnx(tempfile.mkdtemp() + "/model.onnx")
        >>> session = onnxruntime.InferenceSession(str(path))
        >>> (scores,) = session.run(None, {"input": X[:3].astype(np.float32)})
        >>> bool(np.allclose(scores, detector.anomaly_score(X[:3]), atol=1e-3))
        True
        """
        from ._onnx import export_onnx

        check_is_fitted(self)
        return export_onnx(self, path, latent_distance=latent_distance)

    def __getstate__(self):
        state = super().__getstate__()
        state["_sklearn_ganomaly_version"] = __version__
        return state

    def __setstate__(self, state):
        check_pickle_version(type(self).__name__, state.pop("_sklearn_ganomaly_version", None))
        super().__setstate__(state)
        net = self.__dict__.get("net_")
        if net is not None:
            # skorch maps a CUDA model onto the CPU when CUDA is missing.
            self.device_ = str(net.device)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.non_deterministic = self.random_state is None
        return tags


def _score_method(score_method, is_image, latent_dim):
    """The :class:`ScoreMethod` to fit, refusing one the code size cannot support."""
    method = resolve_score_method(score_method, is_image)
    if latent_dim < method.min_latent_dim:
        raise ValueError(
            f"score_method={method.name!r} compares codes by their cosine distance, which "
            f"needs latent_dim >= {method.min_latent_dim} (got {latent_dim}); raise "
            "latent_dim or use score_method='latent'."
        )
    return method


def load(path: str | PathLike[str], *, device: str = "cpu") -> GANomalyDetector:
    """Load a detector written by :meth:`GANomalyDetector.save`.

    Only tensors and plain containers are read (``torch.load`` with
    ``weights_only=True``): loading never runs code from the file.

    Parameters
    ----------
    path : str or path-like
        The model file.
    device : str, default='cpu'
        Device to put the networks on. A model saved from a GPU loads on the
        CPU by default; ``'auto'`` picks cuda, then mps, then cpu.

    Returns
    -------
    detector : GANomalyDetector
        The fitted detector, scoring as the saved one did.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``device`` is not available, or the file is not a sklearn-ganomaly
        model, is truncated or corrupt, has a format version this package
        cannot read, or fails the schema: a metadata field of the wrong type,
        a non-finite statistic or weight, shapes that disagree with each other
        or with the networks. The message names the field at fault.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from sklearn_ganomaly import GANomalyDetector, load
    >>> X = np.random.RandomState(0).normal(size=(60, 4))
    >>> detector = GANomalyDetector(n_epochs=1, width=4, random_state=0).fit(X)
    >>> path = detector.save(tempfile.mkdtemp() + "/model.pt")
    >>> bool(np.allclose(load(path).score_samples(X), detector.score_samples(X)))
    True
    """
    check_device(device)
    device = resolve_device(device)
    saved = read_model(path, map_location=device, estimator=GANomalyDetector)
    detector = GANomalyDetector(**saved.params)
    network = saved.network
    plan = TrainingPlan.from_params(
        {**detector.get_params(deep=False), "width": network["width"]},
        network["shape"],
        network["latent_dim"],
        device,
    )
    try:
        # The weights replace the fresh ones; the seed only fills them first.
        net = build_net(plan, torch.Generator().manual_seed(0), weights=saved.weights)
    except RuntimeError as error:
        # Weights that passed the schema's shapes but not the networks.
        raise inconsistent_model(path, error) from None
    net.history_ = History(saved.history)
    for name, value in saved.attributes.items():
        setattr(detector, name, value)
    detector.net_, detector.device_ = net, device
    return detector
