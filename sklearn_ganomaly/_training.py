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

from ._callbacks import BestEpoch, EpochProgressBar
from ._compat import uncompiled
from ._device import autocast_dtype, use_channels_last
from ._net import GANomalyNet, TrainingData, TrainingDivergedError
from ._warn import warn
from .exceptions import TrainingInterruptedWarning
from .losses import GeneratorLoss
from .networks import build_networks, dcgan_init_

__all__ = [
    "auto_steps",
    "AUTO_LEARNING_RATE",
    "AUTO_STEPS",
    "UNDERTRAINED_SHARE",
    "TrainingPlan",
    "build_net",
    "prepare_continuation",
    "seed_from",
    "split_rows",
    "steps_per_epoch",
    "train",
    "warm_start_changes",
]

#: ``n_epochs='auto'``: the optimizer steps a fit takes, by kind of input
#: (whole epochs, at least one). Chosen on the development splits of the
#: benchmarks: the cheapest budget whose detection quality, with the default
#: read-out, is within 0.005 AUC of the best budget's (the documentation's
#: development study has the curves). Steps, not epochs, so that the budget
#: scales with the data: a small set is seen many times, a large one once.
AUTO_STEPS = {"image": 150, "table": 500}

#: ``learning_rate='auto'``: Adam's learning rate by kind of input, chosen
#: with the budgets above on the same development splits. Images reached
#: their best detection quality in about a third of the steps at 1e-3 than
#: at the authors' 2e-4; the table study ran at 2e-4.
AUTO_LEARNING_RATE = {"image": 1e-3, "table": 2e-4}

#: A fit of fewer steps than this share of the ``'auto'`` budget warns that
#: the model is undertrained: in the studies the read-out still gained from
#: training there.
UNDERTRAINED_SHARE = 0.5

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
    learning_rate : float
        The estimator's ``learning_rate``, ``'auto'`` resolved for the kind of input.
    width, n_epochs, batch_size, beta1, w_adv, w_con, w_enc, encoder_loss, \
validation_fraction, callbacks, verbose, precision, channels_last, compile
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
        if values["learning_rate"] == "auto":
            kind = "image" if len(network_shape) == 3 else "table"
            values["learning_rate"] = AUTO_LEARNING_RATE[kind]
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


def auto_steps(plan):
    """The optimizer steps of ``n_epochs='auto'`` for the plan's kind of input."""
    return AUTO_STEPS["image" if plan.is_image else "table"]


def _max_epochs(plan, n_train):
    if plan.n_epochs != "auto":
        return plan.n_epochs
    return max(1, -(-auto_steps(plan) // steps_per_epoch(n_train, plan.batch_size)))


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
        callbacks.append(("progress", EpochProgressBar(max_epochs)))
    return callbacks + user


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


def _warn_if_undertrained(net, plan, n_train):
    if plan.n_epochs == "auto":
        return
    steps = steps_per_epoch(n_train, plan.batch_size) * len(net.history_)
    budget = auto_steps(plan)
    if steps >= UNDERTRAINED_SHARE * budget:
        return
    kind = "images" if plan.is_image else "tables"
    epochs = -(-budget // steps_per_epoch(n_train, plan.batch_size))
    warn(
        f"The model may be undertrained: {steps} optimizer steps were taken ({len(net.history_)} "
        f"epoch(s) of {n_train} rows); on the benchmarks' {kind} the default read-out still "
        f"gained from training up to about {budget} steps (at the default learning rate). "
        f"Use n_epochs='auto' ({budget} "
        f"steps, {epochs} epochs here) or n_epochs >= {epochs}.",
        ConvergenceWarning,
    )
