"""The GANomaly training loop, as a skorch ``NeuralNet`` with two modules.

``GANomalyNet`` holds the generator as ``module_`` and the discriminator as
``discriminator_``, each with its own Adam optimizer (``optimizer_`` and
``optimizer_discriminator_``). ``train_step`` updates G on the weighted
GANomaly loss, then D on its BCE loss, as the reference code does; D is
re-initialised when its loss collapses (the generator can no longer learn from
a discriminator that wins outright).

Compared with skorch's defaults, the loop is trimmed for speed and size:
batches are sliced straight from the (possibly memory-mapped) arrays rather
than collated row by row, and the epoch's losses are summed on the device and
read once per epoch (no host synchronisation per batch). Per-batch history
rows hold the batch sizes only, and the estimator drops them once training has
ended, so a pickled model does not grow with the number of batches.

skorch's callbacks work as they do on a ``NeuralNet``: the history marks
``train_loss_best`` and ``valid_loss_best`` (what ``Checkpoint`` and
``EarlyStopping`` monitor), ``on_batch_end`` receives ``batch=(X, None)`` and
``y_pred=(x_hat, z, z_hat)`` (what ``EpochScoring`` caches), the datasets
handed to callbacks have a length and give their rows with ``np.asarray``,
and every ``LRScheduler`` gets a twin that drives the discriminator's
optimizer with the same policy.
"""

import contextlib
import math
from functools import partial

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import EpochTimer, LRScheduler
from skorch.utils import TeeGenerator

from ._callbacks import BestLosses, DiscriminatorScheduler
from ._compat import set_training
from .losses import GeneratorLoss, discriminator_loss
from .networks import dcgan_init_

__all__ = [
    "DISCRIMINATOR_COLLAPSE",
    "GANomalyNet",
    "TrainingData",
    "TrainingDivergedError",
    "TrainingRows",
]

#: Loss weights that sum to more than this overflow float32 losses.
_LARGE_LOSS_WEIGHTS = 1e6

#: Mean discriminator loss of an epoch below which the discriminator is re-initialised.
DISCRIMINATOR_COLLAPSE = 1e-5


class TrainingDivergedError(FloatingPointError):
    """A training loss became NaN or infinite."""


class TrainingData:
    """Training and validation rows of one array, batched by slicing.

    Parameters
    ----------
    X : ndarray or memmap
        All the data passed to ``fit``, in the caller's layout.
    train_index, valid_index : ndarray of int
        Rows used for training and for validation.
    to_network : callable
        ``to_network(numpy_batch) -> tensor`` on the training device.
    """

    def __init__(self, X, train_index, valid_index, to_network):
        self.X = X
        self.train_index = train_index
        self.valid_index = valid_index
        self.to_network = to_network

    def rows(self, index):
        """The rows ``index`` as a dataset that skorch's callbacks can size and read."""
        return TrainingRows(self, index)


class TrainingRows(torch.utils.data.Dataset):
    """Some rows of a ``TrainingData``: the training or the validation rows.

    What the net hands its callbacks as ``dataset_train`` and
    ``dataset_valid`` (and ``EpochScoring`` hands its scoring function as
    ``X``): ``len()`` counts the rows, ``np.asarray()`` reads them in the
    caller's layout, and ``net.forward(rows)`` returns the generator's
    ``(x_hat, z, z_hat)`` for them.
    """

    def __init__(self, data, index):
        self.data, self.index = data, index

    def __len__(self):
        return len(self.index)

    def __getitem__(self, i):
        return self.data.X[self.index[i]]

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.data.X[self.index], dtype=dtype)


class _Batches:
    """Iterate over ``X[index]`` in batches of network tensors.

    A final training batch of a single row is dropped: BatchNorm cannot
    normalise one sample in training mode.
    """

    def __init__(self, data, index, batch_size, shuffle, generator, drop_single):
        self.data, self.index = data, index
        self.batch_size, self.shuffle = batch_size, shuffle
        self.generator, self.drop_single = generator, drop_single

    def __len__(self):
        return math.ceil(len(self.index) / self.batch_size)

    def __iter__(self):
        index = self.index
        if self.shuffle:
            order = torch.randperm(len(index), generator=self.generator).numpy()
            index = index[order]
        for start in range(0, len(index), self.batch_size):
            rows = index[start : start + self.batch_size]
            if self.drop_single and len(rows) == 1:
                continue
            # Sorted rows read a memmap sequentially; order within a batch is moot.
            yield self.data.to_network(self.data.X[np.sort(rows)])


class _EpochLosses:
    """Sum of per-batch losses, weighted by batch size, kept on the device."""

    def __init__(self):
        self.names, self.total, self.count = None, None, 0

    def add(self, losses, n):
        if self.names is None:
            self.names = list(losses)
        # One stacked tensor a batch: two small kernels instead of two a loss.
        values = torch.stack([losses[k].detach().float() for k in self.names]) * n
        self.total = values if self.total is None else self.total + values
        self.count += n

    def means(self):
        if not self.count:
            return {}
        values = (self.total / self.count).cpu().tolist()
        return dict(zip(self.names, values, strict=True))


class GANomalyNet(NeuralNet):
    """skorch net training a GANomaly generator against a discriminator.

    Parameters
    ----------
    module : torch.nn.Module
        The initialised ``Generator``.
    discriminator : torch.nn.Module
        The initialised ``Discriminator``.
    torch_generator : torch.Generator
        Source of randomness for the batch order and for re-initialising D.
    autocast_dtype : torch.dtype or None
        Run the forward passes of training under ``torch.autocast`` with this
        dtype (``torch.bfloat16`` for mixed precision); None trains in float32.
    **kwargs
        Passed to ``skorch.NeuralNet`` (``criterion__w_adv``, ``lr``, ...).
    """

    def __init__(
        self, module, discriminator, *, torch_generator=None, autocast_dtype=None, **kwargs
    ):
        kwargs.setdefault("criterion", GeneratorLoss)
        kwargs.setdefault("optimizer", torch.optim.Adam)
        kwargs.setdefault("train_split", None)
        # Set before NeuralNet.__init__: skorch refuses modules set afterwards.
        self.discriminator = discriminator
        self.torch_generator = torch_generator
        self.autocast_dtype = autocast_dtype
        super().__init__(module, **kwargs)

    def get_default_callbacks(self):
        return [("epoch_timer", EpochTimer()), ("best_losses", BestLosses())]

    def initialize(self):
        self.interrupted_, self.interrupted_in_ = False, None
        return super().initialize()

    def initialize_callbacks(self):
        super().initialize_callbacks()
        # skorch's LRScheduler drives ``optimizer_`` only: give each a twin for D.
        callbacks = []
        for name, callback in self.callbacks_:
            callbacks.append((name, callback))
            if isinstance(callback, LRScheduler):
                twin = DiscriminatorScheduler(callback).initialize()
                callbacks.append((f"{name}_discriminator", twin))
        self.callbacks_ = callbacks
        return self

    def initialize_module(self):
        super().initialize_module()
        self.discriminator_ = self.initialized_instance(self.discriminator, {})
        return self

    def initialize_optimizer(self, *args, **kwargs):
        # One optimizer each: skorch's default would put D's parameters into G's.
        for attribute, module in (
            ("optimizer_", self.module_),
            ("optimizer_discriminator_", self.discriminator_),
        ):
            args_, kwargs_ = self.get_params_for_optimizer("optimizer", module.named_parameters())
            setattr(self, attribute, self.optimizer(*args_, **kwargs_))
        return self

    # -- data ----------------------------------------------------------------
    def get_split_datasets(self, X, y=None, **fit_params):
        valid = X.rows(X.valid_index) if len(X.valid_index) else None
        return X.rows(X.train_index), valid

    def get_iterator(self, dataset, training=False):
        return _Batches(
            dataset.data,
            dataset.index,
            self.batch_size,
            shuffle=training,
            generator=self.torch_generator,
            drop_single=training,
        )

    def get_dataset(self, X, y=None):
        if not isinstance(X, TrainingRows):
            raise TypeError(
                "GANomalyNet reads the rows that fit hands its callbacks "
                "(dataset_train, dataset_valid); score other data with the estimator."
            )
        return X

    def evaluation_step(self, batch, training=False):
        """The generator's ``(x_hat, z, z_hat)`` for a batch (for ``net.forward``)."""
        with torch.set_grad_enabled(training):
            set_training(self, training)
            return self.module_(batch)

    # -- steps ---------------------------------------------------------------
    def train_step(self, batch, **fit_params):
        """Update G on the GANomaly loss, then D on its BCE loss."""
        x = batch
        generator, discriminator = self.module_, self.discriminator_

        with self._autocast():
            x_hat, z, z_hat = generator(x)
            with torch.no_grad():
                _, features_real = discriminator(x)
            _, features_fake = discriminator(x_hat)
            losses = self.criterion_(x, x_hat, z, z_hat, features_real, features_fake)
        self.optimizer_.zero_grad(set_to_none=True)
        losses["loss"].backward()
        self.notify(
            "on_grad_computed",
            named_parameters=TeeGenerator(generator.named_parameters()),
            batch=(batch, None),
            training=True,
        )
        self.optimizer_.step()

        with self._autocast():
            logits_real, _ = discriminator(x)
            logits_fake, _ = discriminator(x_hat.detach())
            loss_d = discriminator_loss(logits_real, logits_fake)
        self.optimizer_discriminator_.zero_grad(set_to_none=True)
        loss_d.backward()
        self.optimizer_discriminator_.step()
        y_pred = (x_hat.detach(), z.detach(), z_hat.detach())
        return {**losses, "loss_d": loss_d, "y_pred": y_pred}

    def _autocast(self):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(torch.device(self.device).type, dtype=self.autocast_dtype)

    def validation_step(self, batch, **fit_params):
        """Contextual and encoder losses of held-out normal data (eval mode)."""
        with torch.inference_mode():
            x_hat, z, z_hat = self.module_(batch)
            losses = self.criterion_(batch, x_hat, z, z_hat)
        # The adversarial term needs D, which changes under G's feet: leave it out.
        return {
            "loss": losses["loss"],
            "con": losses["con"],
            "enc": losses["enc"],
            "y_pred": (x_hat, z, z_hat),
        }

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if iterator is None:
            return
        # Modes are set once an epoch rather than once a batch.
        set_training(self, training)
        epoch = _EpochLosses()
        count = 0
        for batch in iterator:
            # skorch's callbacks unpack a batch as (X, y).
            pair = (batch, None)
            self.notify("on_batch_begin", batch=pair, training=training)
            step = step_fn(batch, **fit_params)
            y_pred = step.pop("y_pred")
            epoch.add(step, len(batch))
            self.history.record_batch(f"{prefix}_batch_size", len(batch))
            count += 1
            self.notify("on_batch_end", batch=pair, training=training, y_pred=y_pred, **step)
        self.history.record(f"{prefix}_batch_count", count)
        means = epoch.means()
        for name, value in means.items():
            self.history.record(f"{prefix}_{name}", value)
        if not all(math.isfinite(v) for v in means.values()):
            raise TrainingDivergedError(
                f"The {prefix} loss became non-finite in epoch "
                f"{len(self.history)} ({means}). {self._divergence_advice()}"
            )
        if training and means.get("loss_d", 1.0) < DISCRIMINATOR_COLLAPSE:
            self.reinitialize_discriminator()

    def _divergence_advice(self):
        weights = {k: getattr(self.criterion_, k) for k in ("w_adv", "w_con", "w_enc")}
        if sum(abs(w) for w in weights.values()) > _LARGE_LOSS_WEIGHTS:
            listed = ", ".join(f"{k}={v:g}" for k, v in weights.items())
            return (
                f"The loss weights ({listed}) are so large that the loss overflows; "
                "scale them down together (their ratios are what matter), or lower "
                "learning_rate by as much."
            )
        return "Lower learning_rate or check the input for extreme values."

    def notify(self, method_name, **cb_kwargs):
        # Record the hook a KeyboardInterrupt came through: a callback that
        # ends training on purpose raises it from on_epoch_end.
        try:
            super().notify(method_name, **cb_kwargs)
        except KeyboardInterrupt:
            if self.interrupted_in_ is None:
                self.interrupted_in_ = method_name
            raise

    def fit_loop(self, X, y=None, **fit_params):
        # skorch's partial_fit swallows a KeyboardInterrupt, be it a callback's
        # planned stop or Ctrl-C; record it so that the caller can tell which.
        self.interrupted_, self.interrupted_in_ = False, None
        try:
            return super().fit_loop(X, y, **fit_params)
        except KeyboardInterrupt:
            self.interrupted_ = True
            raise

    def planned_stop(self):
        """Whether training ended early on purpose: a callback's stop after a complete epoch.

        skorch's callbacks (``EarlyStopping``) end training by raising
        ``KeyboardInterrupt`` from ``on_epoch_end``; a Ctrl-C, or an interrupt
        anywhere else, is an interruption.
        """
        return self.interrupted_in_ == "on_epoch_end"

    def drop_batch_rows(self):
        """Empty every epoch's per-batch rows (kept only while training)."""
        for row in self.history:
            row["batches"] = []

    def reinitialize_discriminator(self):
        """Draw fresh DCGAN weights for D and reset its optimizer state.

        Checked once per epoch on the epoch's mean D loss, so training never
        waits on the device for a per-batch loss value.
        """
        self.discriminator_.apply(partial(dcgan_init_, generator=self.torch_generator))
        self.optimizer_discriminator_.state.clear()
        self.history.record("discriminator_reset", True)

    def __getstate__(self):
        state = super().__getstate__()
        state["torch_generator"] = None  # a torch.Generator does not pickle
        return state
