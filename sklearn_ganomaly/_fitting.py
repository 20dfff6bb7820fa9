"""How ``GANomalyDetector`` trains: networks, the skorch net, the budget, warm starts.

:class:`TrainingMixin` holds the estimator's training set-up so that the
estimator module keeps to its public contract: it builds the generator and
the discriminator from the fitted input shape, assembles the skorch
``GANomalyNet`` with its callbacks (the best-epoch keeper, progress, the
user's callbacks, the ``n_epochs='auto'`` budget), splits off the validation
rows, trains or continues training, and warns when a model looks
undertrained. It reads the estimator's parameters and fitted attributes.
"""

import copy
import warnings
from functools import partial

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import validate_data

from ._checks import (
    check_fit_values,
    check_training_outcome,
    finish_interrupted_training,
)
from ._compat import uncompiled
from ._training import (
    BestEpoch,
    EpochProgressBar,
    GANomalyNet,
    TrainingBudget,
    TrainingData,
    TrainingDivergedError,
    cpu_has_native_bf16,
    resolve_device,
    still_improving,
)
from .losses import GeneratorLoss
from .networks import build_networks, dcgan_init_

__all__ = ["AUTO_MAX_STEPS", "AUTO_MIN_STEPS", "AUTO_PATIENCE", "AUTO_TOL", "TrainingMixin"]

#: ``n_epochs='auto'``: optimizer steps always taken, the most allowed, and the
#: patience (epochs) and relative tolerance of the stop on the validation loss.
AUTO_MIN_STEPS = 500
AUTO_MAX_STEPS = 4000
AUTO_PATIENCE = 3
AUTO_TOL = 0.01


def _seed_from(random_state):
    """An integer seed from ``random_state`` that leaves numpy's global RNG alone."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
    return int(random_state)


class TrainingMixin:
    """Training set-up of :class:`~sklearn_ganomaly.GANomalyDetector`."""

    def _continue_fit(self, X):
        """``fit`` with ``warm_start=True`` on a fitted detector: train on."""
        X = validate_data(
            self, X, allow_nd=True, dtype="numeric", ensure_min_samples=2, reset=False
        )
        self.input_transform_.check_shape(X, type(self).__name__)
        check_fit_values(X, self.input_transform_.is_image)
        self._check_warm_start()
        seed = _seed_from(self.random_state)
        train_index, valid_index = self._split(len(X), seed)
        net = self.net_
        # Another batch order than the first fit's, reproducible from the seed.
        net.torch_generator = torch.Generator().manual_seed(seed + len(net.history_))
        for optimizer in (net.optimizer_, net.optimizer_discriminator_):
            for group in optimizer.param_groups:
                group["lr"], group["betas"] = self.learning_rate, (self.beta1, 0.999)
        for name in ("w_adv", "w_con", "w_enc", "encoder_loss"):
            setattr(net, f"criterion__{name}", getattr(self, name))
            setattr(net.criterion_, name, getattr(self, name))
        max_epochs = self._max_epochs(len(train_index))
        # Quietly: skorch announces re-initialised callbacks at verbose > 0.
        net.set_params(verbose=0)
        net.set_params(
            callbacks=self._callback_list(max_epochs),
            max_epochs=max_epochs,
            batch_size=self.batch_size,
        )
        net.verbose = self.verbose
        return self._train(X, train_index, valid_index, seed)

    def _check_warm_start(self):
        """Refuse parameter changes that a fitted model cannot continue with."""
        network_shape = self.input_transform_.network_shape
        changes = []
        if self._resolve_latent_dim(network_shape) != self.latent_dim_:
            changes.append(f"latent_dim (fitted with {self.latent_dim_})")
        with torch.device("meta"):
            generator, _ = build_networks(network_shape, self.latent_dim_, self.width)
        fitted = {k: tuple(v.shape) for k, v in self.net_.module_.state_dict().items()}
        if {k: tuple(v.shape) for k, v in generator.state_dict().items()} != fitted:
            changes.append("width")
        if resolve_device(self.device) != self.device_:
            changes.append(f"device (fitted on {self.device_!r})")
        if changes:
            raise ValueError(
                f"warm_start=True continues the fitted networks, but {' and '.join(changes)} "
                "changed; restore them, or set warm_start=False to train afresh."
            )

    def _train(self, X, train_index, valid_index, seed):
        """Train ``net_`` on ``X``, keep the chosen epoch, fit the score normalisation."""
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
        best = dict(self.net_.callbacks_)["best_epoch"]
        try:
            # Not fit: it would re-initialise the net, and warm starts continue it.
            self.net_.partial_fit(data)
        except TrainingDivergedError as error:
            self.net_.notify("on_train_end", X=data, y=None)
            if best.best_epoch_ is None:
                raise
            warnings.warn(
                f"{error} Keeping the weights of epoch {best.best_epoch_}.",
                ConvergenceWarning,
                stacklevel=2,
            )
        finish_interrupted_training(self.net_, best.best_epoch_)
        self.net_.interrupt_ = None  # drop the traceback and the frames it holds
        self.net_.drop_batch_rows()
        self.best_epoch_ = int(best.best_epoch_)
        self._warn_if_undertrained(len(train_index))
        self._uncompile_networks()
        self._fit_score_normalisation(X, seed)
        check_training_outcome(self, X)
        return self

    def _steps_per_epoch(self, n_train):
        # A final batch of one row is dropped (BatchNorm needs two).
        return max(1, n_train // self.batch_size + (n_train % self.batch_size > 1))

    def _max_epochs(self, n_train):
        if self.n_epochs != "auto":
            return self.n_epochs
        return max(1, -(-AUTO_MAX_STEPS // self._steps_per_epoch(n_train)))

    def _warn_if_undertrained(self, n_train):
        history = self.net_.history_
        steps = self._steps_per_epoch(n_train) * len(history)
        if self.n_epochs != "auto" and steps < AUTO_MIN_STEPS:
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
            if self.n_epochs != "auto"
            else "the 'auto' budget's step limit was reached; pass a larger int n_epochs"
        )
        warnings.warn(
            f"The model may be undertrained: {reason} ({advice}).",
            ConvergenceWarning,
            stacklevel=4,
        )

    def _resolve_latent_dim(self, network_shape):
        if self.latent_dim != "auto":
            return int(self.latent_dim)
        if len(network_shape) == 3:
            return 100
        return max(1, network_shape[0] // 4)

    def _assemble_net(self, torch_generator, *, n_train=None, weights=None):
        """The generator and discriminator in an initialised skorch net.

        The one constructor of ``net_``, shared by ``fit`` (fresh DCGAN
        weights drawn from ``torch_generator``, ``n_train`` rows to size the
        epochs) and :func:`load` (the stored ``weights``, a state dict per
        network), so that a loaded detector has the networks and net that
        training built. Reads the fitted ``input_transform_``, ``latent_dim_``
        and ``device_``.
        """
        network_shape = self.input_transform_.network_shape
        generator, discriminator = self._build_networks(network_shape, torch_generator)
        if weights is not None:
            generator.load_state_dict(weights["generator"])
            discriminator.load_state_dict(weights["discriminator"])
        return self._make_net(generator, discriminator, torch_generator, n_train=n_train)

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
        device = torch.device(self.device_).type
        if device == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
        return torch.bfloat16 if device == "cpu" and cpu_has_native_bf16() else None

    def _uncompile_networks(self):
        # Keep plain modules after training: they pickle, save and score
        # without recompiling, and their state_dict keys carry no prefix.
        for name in ("module_", "discriminator_"):
            setattr(self.net_, name, uncompiled(getattr(self.net_, name)))
        self.net_.compile = False

    def _split(self, n_samples, seed):
        order = np.random.default_rng(seed).permutation(n_samples)
        n_valid = int(self.validation_fraction * n_samples)
        # Never leave fewer than two rows to train on.
        n_valid = min(n_valid, n_samples - 2)
        return np.sort(order[n_valid:]), np.sort(order[:n_valid])

    def _callback_list(self, max_epochs):
        """The package's callbacks around deep copies of the user's."""
        from skorch.callbacks import PrintLog, ProgressBar

        user = copy.deepcopy(list(self.callbacks or []))
        callbacks = [("best_epoch", BestEpoch())]
        reporters = (PrintLog, ProgressBar)
        reported = any(
            isinstance(c, reporters) or (isinstance(c, type) and issubclass(c, reporters))
            for c in (e[1] if isinstance(e, tuple) else e for e in user)
        )
        if self.verbose and not reported:
            callbacks.append(("progress", EpochProgressBar(max_epochs)))
        callbacks += user
        if self.n_epochs == "auto":
            # Last: its stop ends the epoch's notifications, which the others need.
            budget = TrainingBudget(AUTO_MIN_STEPS, AUTO_PATIENCE, AUTO_TOL)
            callbacks.append(("budget", budget))
        return callbacks

    def _make_net(self, generator, discriminator, torch_generator, n_train=None):
        max_epochs = self._max_epochs(n_train) if n_train is not None else 1
        callbacks = self._callback_list(max_epochs)
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
            max_epochs=max_epochs,
            batch_size=self.batch_size,
            callbacks=callbacks,
            device=self.device_,
            verbose=self.verbose,
        ).initialize()
