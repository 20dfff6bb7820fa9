"""The GANomaly training loop, as a skorch ``NeuralNet`` with two modules.

``GANomalyNet`` holds the generator as ``module_`` and the discriminator as
``discriminator_``, each with its own Adam optimizer (``optimizer_`` and
``optimizer_discriminator_``). ``train_step`` updates G on the weighted
GANomaly loss, then D on its BCE loss, as the reference code does; D is
re-initialised when its loss collapses (the generator can no longer learn from
a discriminator that wins outright).

Compared with skorch's defaults, the loop is trimmed for speed and size:
batches are sliced straight from the (possibly memory-mapped) arrays rather
than collated row by row, the epoch's losses are summed on the device and read
once per epoch (no host synchronisation per batch), and the history keeps only
per-epoch rows, so a pickled model does not grow with the number of batches.
"""

import contextlib
import copy
import math
from functools import partial

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer
from skorch.utils import TeeGenerator

from ._compat import set_training
from .losses import GeneratorLoss, discriminator_loss
from .networks import dcgan_init_

__all__ = [
    "GANomalyNet",
    "StopTraining",
    "TrainingBudget",
    "TrainingData",
    "TrainingDivergedError",
    "resolve_device",
]

#: Reference-code threshold below which the discriminator is re-initialised.
DISCRIMINATOR_COLLAPSE = 1e-5


class TrainingDivergedError(FloatingPointError):
    """A training loss became NaN or infinite."""


class StopTraining(KeyboardInterrupt):
    """Raised by a callback to end training on purpose, not by the user.

    skorch ends training early by raising ``KeyboardInterrupt`` from a
    callback (its ``EarlyStopping`` does), which ``NeuralNet.partial_fit``
    catches; this subclass lets the package tell a planned stop from Ctrl-C.
    """


def resolve_device(device):
    """Resolve ``'auto'`` to cuda, then mps, then cpu; pass others through."""
    if device != "auto":
        return str(device)
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


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
        return [("epoch_timer", EpochTimer())]

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
        return X, (X if len(X.valid_index) else None)

    def get_iterator(self, dataset, training=False):
        index = dataset.train_index if training else dataset.valid_index
        return _Batches(
            dataset,
            index,
            self.batch_size,
            shuffle=training,
            generator=self.torch_generator,
            drop_single=training,
        )

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
            batch=batch,
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
        return {**losses, "loss_d": loss_d}

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
        return {"loss": losses["loss"], "con": losses["con"], "enc": losses["enc"]}

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if iterator is None:
            return
        # Modes are set once an epoch rather than once a batch.
        set_training(self, training)
        epoch = _EpochLosses()
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            epoch.add(step, len(batch))
            self.notify("on_batch_end", batch=batch, training=training, **step)
        means = epoch.means()
        for name, value in means.items():
            self.history.record(f"{prefix}_{name}", value)
        if not all(math.isfinite(v) for v in means.values()):
            raise TrainingDivergedError(
                f"The {prefix} loss became non-finite in epoch "
                f"{len(self.history)} ({means}). Lower learning_rate or check "
                "the input for extreme values."
            )
        if training and means.get("loss_d", 1.0) < DISCRIMINATOR_COLLAPSE:
            self.reinitialize_discriminator()

    def fit_loop(self, X, y=None, **fit_params):
        # skorch's partial_fit swallows a KeyboardInterrupt, be it a callback's
        # planned stop or Ctrl-C; keep it so that the estimator can tell which.
        self.interrupt_ = None
        try:
            return super().fit_loop(X, y, **fit_params)
        except KeyboardInterrupt as interrupt:
            self.interrupt_ = interrupt
            raise

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        # Keep the history per epoch only (skorch's default adds a row a batch).
        pass

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


class BestEpoch(Callback):
    """Keep the generator weights of the best epoch, restore them at the end.

    The criterion is ``valid_loss`` (``w_con * L_con + w_enc * L_enc`` on the
    held-out normal rows), an unsupervised quantity; without validation rows
    the last epoch's weights are kept.
    """

    def initialize(self):
        self.best_score_ = math.inf
        self.best_epoch_ = None
        self.best_state_ = None
        return self

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        score = row.get("valid_loss", None)
        if score is None or score <= self.best_score_:
            self.best_score_ = -math.inf if score is None else score
            self.best_epoch_ = row["epoch"]
            self.best_state_ = copy.deepcopy(net.module_.state_dict())
            net.history.record("best_epoch", True)

    def restore(self, net):
        """Load the best weights into ``net.module_``; False if there are none."""
        if self.best_state_ is None:
            return False
        net.module_.load_state_dict(self.best_state_)
        return True

    def on_train_end(self, net, **kwargs):
        self.restore(net)
        self.best_state_ = None  # the weights now live in the net


class EpochProgressBar(Callback):
    """A tqdm progress bar over epochs showing the last epoch's losses."""

    _shown = ("train_loss", "train_loss_d", "valid_loss")

    def __init__(self, total):
        self.total = total

    def on_train_begin(self, net, **kwargs):
        from tqdm.auto import tqdm

        self.bar_ = tqdm(total=self.total, desc="GANomaly", unit="epoch", leave=True)

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        self.bar_.set_postfix({k: f"{row[k]:.4g}" for k in self._shown if k in row})
        self.bar_.update(1)

    def on_train_end(self, net, **kwargs):
        self.bar_.close()


class TrainingBudget(Callback):
    """Stop when the validation loss has stopped improving, within step bounds.

    Training goes on while ``valid_loss`` improved on its best value by more
    than the relative ``tol`` within the last ``patience`` epochs, for at
    least ``min_steps`` optimizer steps; the net's ``max_epochs`` is the upper
    bound. Without validation rows it never stops early. A stop is recorded
    in the history as ``stopped_early``.

    Parameters
    ----------
    min_steps : int
        Optimizer steps always taken before a stop is considered.
    patience : int
        Epochs without an improvement larger than ``tol`` before stopping.
    tol : float
        Relative improvement of ``valid_loss`` that counts as progress.
    """

    def __init__(self, min_steps, patience, tol):
        self.min_steps, self.patience, self.tol = min_steps, patience, tol

    def initialize(self):
        self.steps_, self.best_, self.waited_ = 0, math.inf, 0
        return self

    def on_batch_end(self, net, training=False, **kwargs):
        self.steps_ += int(training)

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1].get("valid_loss")
        if loss is None:
            return
        if loss < self.best_ * (1 - self.tol):
            self.best_, self.waited_ = loss, 0
        else:
            self.waited_ += 1
        if self.waited_ >= self.patience and self.steps_ >= self.min_steps:
            net.history.record("stopped_early", True)
            raise StopTraining


def still_improving(history, epochs=3, rate=0.01):
    """Whether ``valid_loss`` fell by more than ``rate`` per epoch lately.

    Compares the last epoch's validation loss with the one ``epochs`` epochs
    earlier; a relative fall above ``rate`` a epoch means training ended while
    the model was still learning fast.
    """
    losses = [row["valid_loss"] for row in history if "valid_loss" in row]
    if len(losses) <= epochs:
        return len(losses) > 1 and losses[-1] < losses[0] * (1 - rate * (len(losses) - 1))
    before, last = losses[-1 - epochs], losses[-1]
    return last < before * (1 - rate) ** epochs
