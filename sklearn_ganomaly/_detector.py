"""``GANomalyDetector``: GANomaly under scikit-learn's outlier-detector contract."""

import copy
import logging
import warnings
from functools import partial
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, OutlierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._inputs import fit_input_transform
from ._training import (
    BestEpoch,
    EpochProgressBar,
    GANomalyNet,
    TrainingData,
    TrainingDivergedError,
    resolve_device,
)
from .losses import ENCODER_LOSSES, GeneratorLoss
from .networks import build_networks, dcgan_init_

__all__ = ["GANomalyDetector"]

logger = logging.getLogger(__name__)

#: Consistency constant that turns a median absolute deviation into a
#: standard deviation for normally distributed data.
_MAD_TO_SD = 1.4826

#: Rows scored per forward pass; large batches amortise per-call overhead.
_MIN_SCORING_BATCH = 256


def _seed_from(random_state):
    """An integer seed from ``random_state`` that leaves numpy's global RNG alone."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
    return int(random_state)


class GANomalyDetector(OutlierMixin, BaseEstimator):
    """GANomaly anomaly detector trained on normal data only.

    GANomaly (Akcay et al., ACCV 2018) trains an encoder-decoder-encoder
    generator ``x -> z -> x_hat -> z_hat`` against a discriminator on normal
    samples. A sample whose re-encoded latent code ``z_hat`` lands far from
    ``z`` is unlike the training data. Images get DCGAN convolutional networks,
    tabular data small multilayer perceptrons.

    Parameters
    ----------
    latent_dim : int or 'auto', default='auto'
        Size of the latent code ``z``. ``'auto'`` is 100 for images (the
        paper's ``nz``) and ``max(1, d // 4)`` for ``d`` tabular features.
    width : int, default=64
        Base width of the networks: DCGAN filters in the first layer (the
        paper's 64) or hidden units of the tabular MLPs.
    n_epochs : int, default=15
        Training epochs (the paper trains 15 on MNIST).
    batch_size : int, default=64
        Training batch size (the paper's 64).
    learning_rate : float, default=2e-4
        Adam learning rate for both networks. The paper states 2e-3; the
        authors' code and anomalib use 2e-4, which trains stably with Adam's
        ``beta1=0.5``, hence the default.
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
        Extra skorch callbacks (early stopping, LR schedules, loggers, ...);
        they are deep-copied at fit. ``LRScheduler`` drives the generator's
        optimizer. Losses are recorded per epoch as ``train_loss``,
        ``train_loss_d``, ``train_adv``, ``train_con``, ``train_enc``,
        ``valid_loss``, ``valid_con`` and ``valid_enc``.
    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the validation split and the batch
        order through private generators; global random states are never
        touched. Pass an int for reproducible fits: on CPU, two fits with
        the same int, torch version and number of torch threads give
        identical scores (another thread count sums floats in another order,
        which moves the weights slightly); GPU kernels may not be
        deterministic.
    verbose : int, default=0
        0 is silent; 1 or more shows a progress bar over epochs with losses.
    precision : {'auto', 'bf16', 'fp32'}, default='auto'
        Training precision. ``'bf16'`` runs the forward passes under bfloat16
        autocast (weights and optimizer stay float32); ``'auto'`` uses it on
        CUDA devices that support bfloat16 and float32 elsewhere; ``'fp32'``
        opts out. Scoring always runs in float32 (float64 for tabular nets).
    channels_last : 'auto' or bool, default='auto'
        Store image tensors and convolution weights channels-last, the layout
        tensor cores want; ``'auto'`` enables it on CUDA only.
    compile : bool, default=False
        Compile the networks with ``torch.compile`` for training (a one-off
        compilation cost that pays off on long GPU runs).

    Attributes
    ----------
    net_ : GANomalyNet
        The fitted skorch net; ``net_.module_`` is the generator,
        ``net_.discriminator_`` the discriminator.
    history_ : skorch.History
        Per-epoch losses, ``best_epoch`` marks, and ``dur``.
    best_epoch_ : int
        Epoch (1-based) whose weights were kept.
    device_ : str
        The device resolved from ``device``.
    input_transform_ : InputTransform
        The layout and scaling learnt from the training data.
    input_shape_ : tuple of int
        Shape of one training sample, as given.
    n_features_in_ : int
        ``X.shape[1]`` of the training data.
    latent_dim_ : int
        The latent size used.
    score_center_, score_scale_ : float
        Median and scaled median absolute deviation of the training samples'
        latent distances; the anomaly score is
        ``(latent_distance - score_center_) / score_scale_``.
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
        "width": [Interval(Integral, 1, None, closed="left")],
        "n_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "beta1": [Interval(Real, 0, 1, closed="left")],
        "w_adv": [Interval(Real, 0, None, closed="left")],
        "w_con": [Interval(Real, 0, None, closed="left")],
        "w_enc": [Interval(Real, 0, None, closed="left")],
        "encoder_loss": [StrOptions(set(ENCODER_LOSSES))],
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
    }

    def __init__(
        self,
        *,
        latent_dim="auto",
        width=64,
        n_epochs=15,
        batch_size=64,
        learning_rate=2e-4,
        beta1=0.5,
        w_adv=1.0,
        w_con=50.0,
        w_enc=1.0,
        encoder_loss="l2",
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

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
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
        """
        X = validate_data(self, X, allow_nd=True, dtype="numeric", ensure_min_samples=2)
        self.input_transform_ = fit_input_transform(X, self.image_shape)
        self.input_shape_ = self.input_transform_.sample_shape
        self.device_ = resolve_device(self.device)
        seed = _seed_from(self.random_state)
        torch_generator = torch.Generator().manual_seed(seed)

        network_shape = self.input_transform_.network_shape
        self.latent_dim_ = self._resolve_latent_dim(network_shape)
        generator, discriminator = self._build_networks(network_shape, torch_generator)
        train_index, valid_index = self._split(len(X), seed)
        data = TrainingData(
            X,
            train_index,
            valid_index,
            partial(
                self.input_transform_.to_network,
                device=self.device_,
                channels_last=self._use_channels_last(),
            ),
        )
        self.net_ = self._make_net(generator, discriminator, torch_generator)
        best = dict(self.net_.callbacks_)["best_epoch"]
        try:
            self.net_.fit(data)
        except TrainingDivergedError as error:
            self.net_.notify("on_train_end", X=data, y=None)
            if best.best_epoch_ is None:
                raise
            warnings.warn(
                f"{error} Keeping the weights of epoch {best.best_epoch_}.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.best_epoch_ = int(best.best_epoch_)
        self._uncompile_networks()
        self._fit_score_normalisation(X)
        return self

    def _resolve_latent_dim(self, network_shape):
        if self.latent_dim != "auto":
            return int(self.latent_dim)
        if len(network_shape) == 3:
            return 100
        return max(1, network_shape[0] // 4)

    def _build_networks(self, network_shape, torch_generator):
        # Built on the meta device so that torch's default initialisation does
        # not draw from (and advance) the global RNG; DCGAN init then fills
        # every layer from our own generator.
        with torch.device("meta"):
            generator, discriminator = build_networks(network_shape, self.latent_dim_, self.width)
        init = partial(dcgan_init_, generator=torch_generator)
        generator = generator.to_empty(device="cpu").apply(init)
        discriminator = discriminator.to_empty(device="cpu").apply(init)
        if self._use_channels_last():
            generator = generator.to(memory_format=torch.channels_last)
            discriminator = discriminator.to(memory_format=torch.channels_last)
        return generator, discriminator

    def _use_channels_last(self):
        if not self.input_transform_.is_image:
            return False
        if self.channels_last == "auto":
            return torch.device(self.device_).type == "cuda"
        return bool(self.channels_last)

    def _autocast_dtype(self):
        if self.precision == "fp32":
            return None
        if self.precision == "bf16":
            return torch.bfloat16
        cuda = torch.device(self.device_).type == "cuda"
        return torch.bfloat16 if cuda and torch.cuda.is_bf16_supported() else None

    def _uncompile_networks(self):
        # Keep plain modules after training: they pickle, save and score
        # without recompiling, and their state_dict keys carry no prefix.
        for name in ("module_", "discriminator_"):
            module = getattr(self.net_, name)
            setattr(self.net_, name, getattr(module, "_orig_mod", module))
        self.net_.compile = False

    def _split(self, n_samples, seed):
        order = np.random.default_rng(seed).permutation(n_samples)
        n_valid = int(self.validation_fraction * n_samples)
        # Never leave fewer than two rows to train on.
        n_valid = min(n_valid, n_samples - 2)
        return np.sort(order[n_valid:]), np.sort(order[:n_valid])

    def _make_net(self, generator, discriminator, torch_generator):
        callbacks = [("best_epoch", BestEpoch())]
        if self.verbose:
            callbacks.append(("progress", EpochProgressBar(self.n_epochs)))
        callbacks += copy.deepcopy(list(self.callbacks or []))
        return GANomalyNet(
            generator,
            discriminator,
            torch_generator=torch_generator,
            autocast_dtype=self._autocast_dtype(),
            compile=self.compile,
            criterion=GeneratorLoss,
            criterion__w_adv=self.w_adv,
            criterion__w_con=self.w_con,
            criterion__w_enc=self.w_enc,
            criterion__encoder_loss=self.encoder_loss,
            optimizer=torch.optim.Adam,
            optimizer__betas=(self.beta1, 0.999),
            lr=self.learning_rate,
            max_epochs=self.n_epochs,
            batch_size=self.batch_size,
            callbacks=callbacks,
            device=self.device_,
            verbose=0,
        ).initialize()

    def _fit_score_normalisation(self, X):
        """Store robust statistics of the training latent distances, and the offset."""
        distances = self._latent_distance(X)
        if not np.all(np.isfinite(distances)):
            raise FloatingPointError(
                "Training produced a model whose latent distances are not finite; "
                "lower learning_rate."
            )
        center = float(np.median(distances))
        mad = float(np.median(np.abs(distances - center))) * _MAD_TO_SD
        # Fall back to the standard deviation, then to 1, for degenerate spreads.
        scale = mad if mad > 0 else float(np.std(distances))
        self.score_center_ = center
        self.score_scale_ = scale if scale > 0 else 1.0
        contamination = 0.01 if self.contamination == "auto" else self.contamination
        scores = -(distances - self.score_center_) / self.score_scale_
        self.offset_ = float(np.percentile(scores, 100.0 * contamination))

    @property
    def history_(self):
        """Per-epoch training history (a skorch ``History``)."""
        check_is_fitted(self)
        return self.net_.history_

    # -------------------------------------------------------------- scoring
    def _validate_scoring_input(self, X):
        check_is_fitted(self)
        # For images, name both shapes before validate_data's terser
        # n_features message (which would not notice a changed H or W).
        if len(self.input_shape_) > 1 and len(getattr(X, "shape", ())) > 2:
            self.input_transform_.check_shape(X, type(self).__name__)
        X = validate_data(self, X, allow_nd=True, dtype="numeric", reset=False)
        self.input_transform_.check_shape(X, type(self).__name__)
        return X

    def _scoring_network(self):
        """The generator in eval mode, and the dtype to feed it."""
        module = self.net_.module_
        if self.input_transform_.is_image:
            return module.eval(), torch.float32
        # Tiny tabular nets: float64 makes scores batch-independent to ~1e-12.
        return copy.deepcopy(module).double().eval(), torch.float64

    def _map_batches(self, X, out, fn):
        """Fill ``out[rows] = fn(x_hat, z, z_hat)`` batch by batch; return ``out``.

        Writing into one preallocated array keeps scoring memory at the input
        plus O(batch): collecting small per-batch results instead pins heap
        pages between the large temporaries and makes memory grow with n.
        """
        module, dtype = self._scoring_network()
        device = next(module.parameters()).device
        channels_last = self._use_channels_last()
        step = max(self.batch_size, _MIN_SCORING_BATCH)
        with torch.inference_mode():
            for start in range(0, len(X), step):
                x = self.input_transform_.to_network(
                    X[start : start + step], device, dtype, channels_last=channels_last
                )
                out[start : start + len(x)] = fn(*module(x))
        return out

    def _latent_distance(self, X):
        def distance(x_hat, z, z_hat):
            return torch.mean((z - z_hat) ** 2, dim=1).to("cpu", torch.float64).numpy()

        return self._map_batches(X, np.empty(len(X)), distance)

    def encode(self, X):
        """Latent codes ``z = G_E(x)`` of the samples.

        Parameters
        ----------
        X : array-like
            Samples in the layout used at fit.

        Returns
        -------
        Z : ndarray of shape (n_samples, latent_dim_)
            The encoder's codes, float64.
        """
        X = self._validate_scoring_input(X)
        return self._codes(X)

    def _codes(self, X):
        def code(x_hat, z, z_hat):
            return z.to("cpu", torch.float64).numpy()

        return self._map_batches(X, np.empty((len(X), self.latent_dim_)), code)

    def latent_distance(self, X):
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
        return self._latent_distance(self._validate_scoring_input(X))

    def anomaly_score(self, X):
        """Normalised anomaly score, higher = more abnormal (PyOD's direction).

        ``(latent_distance(X) - score_center_) / score_scale_``: a robust
        z-score against the training data, equal to ``-score_samples(X)``.

        Parameters
        ----------
        X : array-like
            Samples in the layout used at fit.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Anomaly scores.
        """
        return (self.latent_distance(X) - self.score_center_) / self.score_scale_

    def score_samples(self, X):
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

    def decision_function(self, X):
        """Shifted normality score: negative for outliers.

        Parameters
        ----------
        X : array-like
            Samples in the layout used at fit.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            ``score_samples(X) - offset_``.
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
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

    def reconstruct(self, X):
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
        X = self._validate_scoring_input(X)
        out = np.empty((len(X), *self.input_shape_))
        return self._map_batches(
            X, out, lambda x_hat, z, z_hat: self.input_transform_.from_network(x_hat)
        )

    def save(self, path):
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
        from ._persistence import save_detector

        check_is_fitted(self)
        return save_detector(self, path)

    def export_onnx(self, path):
        """Export the latent-distance computation to ONNX (needs the onnx extra).

        Parameters
        ----------
        path : str or path-like
            Destination ``.onnx`` file. The graph takes a float32 batch in the
            networks' layout and returns the raw latent distances.

        Returns
        -------
        path : pathlib.Path
            The file written.
        """
        from ._onnx import export_onnx

        check_is_fitted(self)
        return export_onnx(self, path)

    def __setstate__(self, state):
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
