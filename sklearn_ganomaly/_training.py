"""Training GANomaly's networks: the plan, the skorch net, the budget, warm starts.

The estimator turns its parameters into a :class:`TrainingPlan` and hands it
to the functions here, which know nothing else about it: :func:`build_net`
builds the generator and the discriminator (DCGAN-initialised from a seeded
generator, or filled with stored weights) inside an initialised skorch
``GANomalyNet`` with the package's callbacks around the user's;
:func:`train` runs it on the training rows, keeps the epoch with the lowest
validation loss and handles divergence and interruptions;
:func:`prepare_continuation` sets a fitted net up for ``warm_start``.
"""

import copy
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from ._callbacks import BestEpoch, EpochProgressBar, TrainingBudget
from ._compat import uncompiled
from ._device import autocast_dtype, use_channels_last
from ._net import GANomalyNet, TrainingData, TrainingDivergedError
from ._warn import warn
from .exceptions import TrainingInterruptedWarning
from .losses import GeneratorLoss
from .networks import build_networks, dcgan_init_

__all__ = [
    "AUTO_MAX_STEPS",
    "AUTO_MIN_STEPS",
    "AUTO_PATIENCE",
    "AUTO_TOL",
    "TrainingPlan",
    "build_net",
    "prepare_continuation",
    "seed_from",
    "split_rows",
    "steps_per_epoch",
    "still_improving",
    "train",
    "warm_start_changes",
]

#: ``n_epochs='auto'``: optimizer steps always taken, the most allowed, and the
#: patience (epochs) and relative tolerance of the stop on the validation loss.
AUTO_MIN_STEPS = 500
AUTO_MAX_STEPS = 4000
AUTO_PATIENCE = 3
AUTO_TOL = 0.01

#: A loss this many times the sum of the loss weights means training exploded
#: (with inputs scaled to [-1, 1] or standardised, healthy losses are O(1) each).
_EXPLODED_LOSS = 1e4


@dataclass(frozen=True)
class TrainingPlan:
    """What training needs to know, from the estimator's parameters and the data.

    Attributes
    ----------
    network_shape : tuple of int
        ``(C, H, W)`` for images, ``(d,)`` for tables.
    latent_dim, device
        The resolved code size and device.
    width, n_epochs, batch_size, learning_rate, beta1, w_adv, w_con, w_enc, \
encoder_loss, validation_fraction, callbacks, verbose, precision, channels_last, compile
        The estimator's parameters of these names.
    """

    network_shape: tuple
    latent_dim: int
    device: str
    width: int
    n_epochs: object
    batch_size: int
    learning_rate: float
    beta1: float
    w_adv: float
    w_con: float
    w_enc: float
    encoder_loss: str
    validation_fraction: float
    callbacks: object
    verbose: int
    precision: str
    channels_last: object
    compile: bool

    @classmethod
    def from_params(cls, params, network_shape, latent_dim, device):
        """The plan for an estimator's ``get_params(deep=False)`` and the fitted shapes."""
        names = [f for f in cls.__dataclass_fields__ if f not in ("network_shape", "latent_dim")]
        values = {name: params[name] for name in names if name != "device"}
        return cls(tuple(network_shape), int(latent_dim), str(device), **values)

    @property
    def is_image(self):
        return len(self.network_shape) == 3

    @property
    def autocast_dtype(self):
        return autocast_dtype(self.precision, self.device, self.is_image)

    @property
    def channels_last_layout(self):
        return use_channels_last(self.channels_last, self.device, self.is_image)


def seed_from(random_state):
    """An integer seed from ``random_state``, as scikit-learn's estimators draw one.

    An int is used as is; None draws from numpy's global generator (so that
    seeding it makes two fits equal), a ``RandomState`` from itself.
    """
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def split_rows(n_samples, validation_fraction, seed):
    """Sorted training and validation row indices (at least two rows train)."""
    order = np.random.default_rng(seed).permutation(n_samples)
    n_valid = min(int(validation_fraction * n_samples), n_samples - 2)
    return np.sort(order[n_valid:]), np.sort(order[:n_valid])


def steps_per_epoch(n_train, batch_size):
    """Optimizer steps an epoch takes (a final batch of one row is dropped)."""
    return max(1, n_train // batch_size + (n_train % batch_size > 1))


def _max_epochs(plan, n_train):
    if plan.n_epochs != "auto":
        return plan.n_epochs
    return max(1, -(-AUTO_MAX_STEPS // steps_per_epoch(n_train, plan.batch_size)))


def _callbacks(plan, max_epochs):
    """The package's callbacks around deep copies of the user's."""
    from skorch.callbacks import PrintLog, ProgressBar

    user = copy.deepcopy(list(plan.callbacks or []))
    callbacks = [("best_epoch", BestEpoch())]
    reporters = (PrintLog, ProgressBar)
    reported = any(
        isinstance(c, reporters) or (isinstance(c, type) and issubclass(c, reporters))
        for c in (e[1] if isinstance(e, tuple) else e for e in user)
    )
    if plan.verbose and not reported:
        total = None if plan.n_epochs == "auto" else max_epochs
        callbacks.append(("progress", EpochProgressBar(total)))
    callbacks += user
    if plan.n_epochs == "auto":
        # Last: its stop ends the epoch's notifications, which the others need.
        callbacks.append(("budget", TrainingBudget(AUTO_MIN_STEPS, AUTO_PATIENCE, AUTO_TOL)))
    return callbacks


def _networks(plan, torch_generator):
    # Built on the meta device so that torch's default initialisation does
    # not draw from (and advance) the global RNG; DCGAN init then fills
    # every layer from our own generator.
    with torch.device("meta"):
        generator, discriminator = build_networks(plan.network_shape, plan.latent_dim, plan.width)
    init = partial(dcgan_init_, generator=torch_generator)
    generator = generator.to_empty(device="cpu").apply(init)
    discriminator = discriminator.to_empty(device="cpu").apply(init)
    if plan.channels_last_layout:
        generator = generator.to(memory_format=torch.channels_last)
        discriminator = discriminator.to(memory_format=torch.channels_last)
    return generator, discriminator


def build_net(plan, torch_generator, *, n_train=None, weights=None):
    """The generator and discriminator in an initialised skorch net.

    The one constructor of a detector's net, for ``fit`` (fresh DCGAN
    weights drawn from ``torch_generator``; ``n_train`` rows size the
    epochs) and for :func:`sklearn_ganomaly.load` (``weights``, a state dict
    per network under ``"generator"`` and ``"discriminator"``).
    """
    generator, discriminator = _networks(plan, torch_generator)
    if weights is not None:
        generator.load_state_dict(weights["generator"])
        discriminator.load_state_dict(weights["discriminator"])
    max_epochs = _max_epochs(plan, n_train) if n_train is not None else 1
    return GANomalyNet(
        generator,
        discriminator,
        torch_generator=torch_generator,
        autocast_dtype=plan.autocast_dtype,
        compile=plan.compile,
        criterion=GeneratorLoss,
        criterion__w_adv=plan.w_adv,
        criterion__w_con=plan.w_con,
        criterion__w_enc=plan.w_enc,
        criterion__encoder_loss=plan.encoder_loss,
        optimizer=torch.optim.Adam,
        optimizer__betas=(plan.beta1, 0.999),
        lr=plan.learning_rate,
        max_epochs=max_epochs,
        batch_size=plan.batch_size,
        callbacks=_callbacks(plan, max_epochs),
        device=plan.device,
        verbose=plan.verbose,
    ).initialize()


def warm_start_changes(net, plan):
    """The parameters a fitted ``net`` cannot continue with under ``plan``, described."""
    changes = []
    with torch.device("meta"):
        generator, _ = build_networks(plan.network_shape, plan.latent_dim, plan.width)
    fitted = {k: tuple(v.shape) for k, v in net.module_.state_dict().items()}
    if {k: tuple(v.shape) for k, v in generator.state_dict().items()} != fitted:
        changes.append("width or latent_dim")
    if str(net.device) != plan.device:
        changes.append(f"device (fitted on {str(net.device)!r})")
    return changes


def prepare_continuation(net, plan, n_train, seed):
    """Set a fitted net up to train on under ``plan`` (``warm_start=True``)."""
    # Another batch order than the first fit's, reproducible from the seed.
    net.torch_generator = torch.Generator().manual_seed(seed + len(net.history_))
    for optimizer in (net.optimizer_, net.optimizer_discriminator_):
        for group in optimizer.param_groups:
            group["lr"], group["betas"] = plan.learning_rate, (plan.beta1, 0.999)
    for name in ("w_adv", "w_con", "w_enc", "encoder_loss"):
        setattr(net, f"criterion__{name}", getattr(plan, name))
        setattr(net.criterion_, name, getattr(plan, name))
    max_epochs = _max_epochs(plan, n_train)
    # Quietly: skorch announces re-initialised callbacks at verbose > 0.
    net.set_params(verbose=0)
    net.set_params(
        callbacks=_callbacks(plan, max_epochs), max_epochs=max_epochs, batch_size=plan.batch_size
    )
    # skorch's set_params initialises the callbacks before it stores the new
    # list: initialise them again from it.
    net.initialize_callbacks()
    net.verbose = plan.verbose
    return net


def train(net, plan, X, train_index, valid_index, transform):
    """Train ``net`` on ``X[train_index]``; return the epoch whose weights it keeps."""
    data = TrainingData(
        X,
        train_index,
        valid_index,
        partial(
            transform.to_network,
            device=plan.device,
            channels_last=plan.channels_last_layout,
        ),
    )
    if not len(valid_index):
        _check_no_validation_needed(net, plan)
    best = dict(net.callbacks_)["best_epoch"]
    try:
        # Not fit: it would re-initialise the net, and warm starts continue it.
        net.partial_fit(data)
    except TrainingDivergedError as error:
        net.notify("on_train_end", X=data, y=None)
        if best.best_epoch_ is None:
            raise
        warn(f"{error} Keeping the weights of epoch {best.best_epoch_}.", ConvergenceWarning)
    _finish_interrupted(net, best.best_epoch_)
    net.drop_batch_rows()
    for name in ("module_", "discriminator_"):
        # Plain modules after training: they pickle, save and score without
        # recompiling, and their state_dict keys carry no prefix.
        setattr(net, name, uncompiled(getattr(net, name)))
    net.compile = False
    best_epoch = int(best.best_epoch_)
    _warn_if_exploded(net, plan, best_epoch)
    _warn_if_undertrained(net, plan, len(train_index))
    return best_epoch


def _check_no_validation_needed(net, plan):
    """Refuse user callbacks that read validation results when no rows are held out."""
    from skorch.callbacks import EpochScoring

    for name, callback in net.callbacks_:
        monitor = getattr(callback, "monitor", None)
        reads = isinstance(monitor, str) and monitor.startswith("valid")
        if isinstance(callback, EpochScoring) and not callback.on_train:
            monitor, reads = f"the scoring {callback.name!r} of validation rows", True
        if reads:
            raise ValueError(
                f"The callback {name!r} ({type(callback).__name__}) reads {monitor!r}, which "
                "needs held-out validation rows, but none are held out "
                f"(validation_fraction={plan.validation_fraction}); raise validation_fraction "
                "or have it monitor the training loss ('train_loss')."
            )


def _finish_interrupted(net, best_epoch):
    """Handle a ``KeyboardInterrupt`` that skorch caught during training.

    A planned stop passes silently. An interruption before any complete
    epoch raises ``KeyboardInterrupt`` again; a later one keeps the best
    complete epoch's weights, already restored by then, and warns.
    """
    if not net.interrupted_ or net.planned_stop():
        return
    epoch = len(net.history_)
    if best_epoch is None:
        raise KeyboardInterrupt(
            f"Training was interrupted in epoch {epoch}, before any epoch completed; "
            "the detector is not fitted."
        )
    warn(
        f"Training was interrupted in epoch {epoch}; the detector keeps the weights of "
        f"epoch {best_epoch}, the best complete epoch, and is fitted on them.",
        TrainingInterruptedWarning,
    )


def _warn_if_exploded(net, plan, best_epoch):
    row = next(r for r in net.history_ if r["epoch"] == best_epoch)
    bound = _EXPLODED_LOSS * max(1.0, plan.w_adv + plan.w_con + plan.w_enc)
    for key in ("valid_loss", "train_loss"):
        value = row.get(key)
        if value is not None and value > bound:
            warn(
                f"Training exploded: the kept epoch {best_epoch} has {key}={value:.3g}, far "
                "above what scaled inputs give. Lower learning_rate (it is "
                f"{plan.learning_rate:g}).",
                ConvergenceWarning,
            )
            return


def still_improving(history, epochs=3, rate=0.01):
    """Whether ``valid_loss`` fell by more than ``rate`` per epoch lately.

    Compares the last epoch's validation loss with the one ``epochs`` epochs
    earlier; a relative fall above ``rate`` an epoch means training ended
    while the model was still learning fast.
    """
    losses = [row["valid_loss"] for row in history if "valid_loss" in row]
    if len(losses) <= epochs:
        return len(losses) > 1 and losses[-1] < losses[0] * (1 - rate * (len(losses) - 1))
    before, last = losses[-1 - epochs], losses[-1]
    return last < before * (1 - rate) ** epochs


def _warn_if_undertrained(net, plan, n_train):
    history = net.history_
    steps = steps_per_epoch(n_train, plan.batch_size) * len(history)
    if plan.n_epochs != "auto" and steps < AUTO_MIN_STEPS:
        reason = (
            f"only {steps} optimizer steps were taken ({len(history)} epochs of "
            f"{n_train} rows), fewer than the {AUTO_MIN_STEPS} that n_epochs='auto' "
            "always takes"
        )
    elif not history[-1].get("stopped_early") and still_improving(history):
        reason = (
            f"training ended after {len(history)} epochs while the validation loss "
            "was still falling by more than 1% an epoch"
        )
    else:
        return
    advice = (
        "raise n_epochs or use n_epochs='auto'"
        if plan.n_epochs != "auto"
        else "the 'auto' budget's step limit was reached; pass a larger int n_epochs"
    )
    warn(f"The model may be undertrained: {reason} ({advice}).", ConvergenceWarning)
