"""The package's skorch callbacks: the kept epoch, the best losses, the budget, progress.

``GANomalyNet`` (:mod:`sklearn_ganomaly._net`) runs these beside the user's
callbacks. :class:`BestEpoch` keeps the generator weights of the epoch with
the lowest validation loss and puts them back at the end (unless a user
callback such as ``EarlyStopping(load_best=True)`` chooses the weights, see
:func:`weights_owner`); :class:`BestLosses` marks ``train_loss_best`` and
``valid_loss_best`` as skorch's own scoring callbacks do;
:class:`DiscriminatorScheduler` runs a copy of each ``LRScheduler`` on the
discriminator's optimizer; :class:`EpochProgressBar` shows progress at
``verbose >= 1``.
"""

import copy
import math

from skorch.callbacks import Callback, Checkpoint, EarlyStopping

__all__ = [
    "BestEpoch",
    "BestLosses",
    "DiscriminatorScheduler",
    "EpochProgressBar",
    "kept_epoch",
    "weights_owner",
]


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
    """A tqdm progress bar over epochs showing the last epoch's losses.

    Parameters
    ----------
    total : int or None
        Epochs planned; None when the budget decides when to stop.
    """

    _shown = ("train_loss", "train_loss_d", "valid_loss")

    def __init__(self, total):
        self.total = total

    def on_train_begin(self, net, **kwargs):
        from tqdm.auto import tqdm

        # total=None (a budget that ends on its own) counts epochs without an ETA.
        self.bar_ = tqdm(total=self.total, desc="GANomaly", unit="epoch", leave=True)

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        self.bar_.set_postfix({k: f"{row[k]:.4g}" for k in self._shown if k in row})
        self.bar_.update(1)

    def on_train_end(self, net, **kwargs):
        self.bar_.close()
