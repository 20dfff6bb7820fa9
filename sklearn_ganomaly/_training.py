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
import copy
import functools
import math
from functools import partial

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, Checkpoint, EarlyStopping, EpochTimer, LRScheduler
from skorch.utils import TeeGenerator

from ._compat import set_training
from .losses import GeneratorLoss, discriminator_loss
from .networks import dcgan_init_

__all__ = [
    "CallbackParamsMixin",
    "BestLosses",
    "DiscriminatorScheduler",
    "GANomalyNet",
    "StopTraining",
    "TrainingBudget",
    "TrainingData",
    "TrainingDivergedError",
    "TrainingRows",
    "callback_name",
    "callback_params",
    "kept_epoch",
    "resolve_device",
    "set_callback_params",
    "weights_owner",
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


@functools.cache
def cpu_has_native_bf16():
    """Whether this CPU computes bfloat16 natively (AMX or AVX-512-BF16).

    Read from the Linux CPU flags; elsewhere the answer is False, which only
    means that ``precision='auto'`` keeps float32 there.
    """
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"amx_bf16", "avx512_bf16"})
    except OSError:
        pass
    return False


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
        best = score is None or score <= self.best_score_
        if best:
            self.best_score_ = -math.inf if score is None else score
            self.best_epoch_ = row["epoch"]
            self.best_state_ = copy.deepcopy(net.module_.state_dict())
        # Every epoch has the key, so that Checkpoint(monitor="best_epoch") can read it.
        net.history.record("best_epoch", best)

    def restore(self, net):
        """Load the best weights into ``net.module_``; False if there are none."""
        if self.best_state_ is None:
            return False
        net.module_.load_state_dict(self.best_state_)
        return True

    def on_train_end(self, net, **kwargs):
        owner = weights_owner(net)
        if owner is None:
            self.restore(net)
        else:
            # A user callback loads the weights it chose right after this one:
            # name its epoch, and leave the weights to it.
            self.best_epoch_ = kept_epoch(owner, net)
        self.best_state_ = None  # the weights now live in the net


def weights_owner(net):
    """The last callback that loads its own best weights at the end of training, or None.

    ``EarlyStopping(load_best=True)`` and ``Checkpoint(load_best=True)`` do:
    their choice, not ``BestEpoch``'s, is the model fit returns.
    """
    owner = None
    for _, callback in net.callbacks_:
        if isinstance(callback, EarlyStopping) and callback.load_best:
            owner = callback
        elif isinstance(callback, Checkpoint) and callback.load_best and callback.monitor:
            if callback.event_name is not None:
                owner = callback
    return owner


def kept_epoch(owner, net):
    """The epoch whose weights ``owner`` (see :func:`weights_owner`) leaves in the net."""
    last = net.history[-1, "epoch"]
    if isinstance(owner, EarlyStopping):
        # It loads nothing when the best epoch is the last one.
        if owner.best_model_weights_ is None or not owner.best_epoch_:
            return last
        return owner.best_epoch_
    marked = [row["epoch"] for row in net.history if row.get(owner.event_name)]
    return marked[-1] if marked else last


class BestLosses(Callback):
    """Mark ``train_loss_best`` and ``valid_loss_best`` in the history, as skorch does.

    skorch's default scoring callbacks add these keys; ``Checkpoint`` monitors
    ``valid_loss_best`` by default. Continued training (``warm_start``) goes
    on from the best values already in the history.
    """

    keys = ("train_loss", "valid_loss")

    def on_train_begin(self, net, **kwargs):
        self.best_ = {
            key: min((row[key] for row in net.history if key in row), default=math.inf)
            for key in self.keys
        }

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        for key in self.keys:
            if key in row:
                best = row[key] < self.best_[key]
                net.history.record(f"{key}_best", bool(best))
                if best:
                    self.best_[key] = row[key]


class _DiscriminatorView:
    """The net as seen by a learning-rate scheduler of the discriminator."""

    def __init__(self, net):
        self._net = net

    @property
    def optimizer_(self):
        return self._net.optimizer_discriminator_

    def __getattr__(self, name):
        return getattr(self._net, name)


class DiscriminatorScheduler(Callback):
    """Run a copy of an ``LRScheduler`` on the discriminator's optimizer.

    The net adds one after every ``LRScheduler`` it is given, so that one
    schedule drives both optimizers; the learning rate it records is
    ``<event_name>_discriminator``.
    """

    def __init__(self, scheduler):
        self.scheduler = scheduler

    def initialize(self):
        self.scheduler_ = copy.deepcopy(self.scheduler)
        if self.scheduler_.event_name is not None:
            self.scheduler_.event_name = f"{self.scheduler_.event_name}_discriminator"
        self.scheduler_.initialize()
        return self

    def on_train_begin(self, net, **kwargs):
        self.scheduler_.on_train_begin(_DiscriminatorView(net), **kwargs)

    def on_epoch_end(self, net, **kwargs):
        self.scheduler_.on_epoch_end(_DiscriminatorView(net), **kwargs)

    def on_batch_end(self, net, **kwargs):
        self.scheduler_.on_batch_end(_DiscriminatorView(net), **kwargs)


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


def callback_name(entry):
    """The name skorch gives a ``callbacks`` entry: its own, or its class's."""
    if isinstance(entry, tuple):
        return entry[0]
    return entry.__name__ if isinstance(entry, type) else type(entry).__name__


def callback_params(callbacks):
    """``{'callbacks__<name>': callback, 'callbacks__<name>__<param>': value}``.

    What ``get_params(deep=True)`` lists for the callbacks, as skorch's nets do.
    """
    params: dict = {}
    if not isinstance(callbacks, (list, tuple)):
        return params  # an invalid value, which fit reports
    for entry in callbacks:
        if isinstance(entry, tuple) and (len(entry) != 2 or not isinstance(entry[0], str)):
            continue
        name = callback_name(entry)
        callback = entry[1] if isinstance(entry, tuple) else entry
        params[f"callbacks__{name}"] = callback
        if not isinstance(callback, type) and hasattr(callback, "get_params"):
            for key, value in callback.get_params().items():
                params[f"callbacks__{name}__{key}"] = value
    return params


def set_callback_params(callbacks, params):
    """A new ``callbacks`` list with ``callbacks__<name>[__<param>]`` values applied.

    ``callbacks__<name>__<param>=value`` sets a parameter of the callback of
    that name (a callback given as a class is instantiated with it);
    ``callbacks__<name>=callback`` replaces it, and ``None`` removes it.
    """
    entries = list(callbacks or ())
    names = [callback_name(entry) for entry in entries]
    nested: dict = {}
    for key, value in params.items():
        name, _, param = key[len("callbacks__") :].partition("__")
        if names.count(name) != 1:
            problem = "several callbacks are" if name in names else "no callback is"
            raise ValueError(
                f"Cannot set {key}: {problem} named {name!r} (the callbacks are named "
                f"{names}). Name a callback with a (name, callback) pair."
            )
        if param:
            nested.setdefault(names.index(name), {})[param] = value
        else:
            i = names.index(name)
            entries[i] = (name, value) if isinstance(entries[i], tuple) else value
    for i, values in nested.items():
        entry = entries[i]
        callback = entry[1] if isinstance(entry, tuple) else entry
        if isinstance(callback, type):
            callback = callback(**values)
        else:
            callback.set_params(**values)
        entries[i] = (entry[0], callback) if isinstance(entry, tuple) else callback
    return [e for e in entries if (e[1] if isinstance(e, tuple) else e) is not None]


class CallbackParamsMixin:
    """``get_params``/``set_params`` that reach into named callbacks, as skorch's do.

    ``get_params(deep=True)`` adds ``callbacks__<name>`` and
    ``callbacks__<name>__<param>`` for each callback, and ``set_params``
    takes them, so ``GridSearchCV`` can tune a callback's parameter.
    """

    def get_params(self, deep=True):
        """Parameters of the estimator; with ``deep``, also its named callbacks'.

        Parameters
        ----------
        deep : bool, default=True
            Also list ``callbacks__<name>`` and ``callbacks__<name>__<param>``
            for each callback, as skorch's nets do.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        params = super().get_params(deep=deep)
        if deep:
            params.update(callback_params(params.get("callbacks")))
        return params

    def set_params(self, **params):
        """Set parameters, among them ``callbacks__<name>__<param>`` ones.

        Parameters
        ----------
        **params : dict
            Estimator parameters, and as in skorch ``callbacks__<name>__<param>``
            (a parameter of the callback named ``<name>``, or of class
            ``<name>`` when it was given without a name) or
            ``callbacks__<name>`` (a new callback for that name; None drops it).

        Returns
        -------
        self : estimator
            The estimator.
        """
        nested = {k: params.pop(k) for k in list(params) if k.startswith("callbacks__")}
        super().set_params(**params)
        if nested:
            self.callbacks = set_callback_params(self.callbacks, nested)
        return self
