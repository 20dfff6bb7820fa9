"""GANomaly losses (Akcay et al., ACCV 2018, Section 3.2).

The generator minimises

    L_G = w_adv * L_adv + w_con * L_con + w_enc * L_enc

- ``L_adv`` (Eq. 1), feature matching: the distance between the
  discriminator's last feature map of ``x`` and of ``x_hat``. The paper writes
  the expectation over the batch inside the norm; the authors' code (and this
  package) compares the features per sample, with a mean squared error, which
  is the stronger, per-image signal.
- ``L_con`` (Eq. 2), contextual: mean absolute error ``|x - x_hat|``.
- ``L_enc`` (Eq. 3), encoder: the distance between ``z = G_E(x)`` and
  ``z_hat = E(x_hat)``. The paper names an L2 norm; the authors' code uses the
  mean squared error and anomalib a smooth L1. ``encoder_loss`` picks one;
  ``'l2'`` (mean squared error, the reference code's choice and the same
  quantity as the anomaly score) is the default.

The discriminator minimises ``0.5 * (BCE(D(x), 1) + BCE(D(x_hat), 0))`` as in
the reference code.
"""

import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "ENCODER_LOSSES",
    "GeneratorLoss",
    "adversarial_loss",
    "contextual_loss",
    "discriminator_loss",
    "encoder_loss",
]

ENCODER_LOSSES = {
    "l2": F.mse_loss,
    "l1": F.l1_loss,
    "smooth_l1": F.smooth_l1_loss,
}


def adversarial_loss(features_real, features_fake):
    """Feature matching, Eq. 1: per-sample MSE of discriminator features."""
    return F.mse_loss(features_fake, features_real)


def contextual_loss(x, x_hat):
    """Contextual loss, Eq. 2: mean absolute reconstruction error."""
    return F.l1_loss(x_hat, x)


def encoder_loss(z, z_hat, kind="l2"):
    """Encoder loss, Eq. 3, with the norm named by ``kind``."""
    return ENCODER_LOSSES[kind](z_hat, z)


def discriminator_loss(logits_real, logits_fake):
    """``0.5 * (BCE(D(x), 1) + BCE(D(x_hat), 0))`` computed from logits."""
    real = F.binary_cross_entropy_with_logits(logits_real, torch.ones_like(logits_real))
    fake = F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake))
    return 0.5 * (real + fake)


class GeneratorLoss(nn.Module):
    """Weighted GANomaly generator loss; returns a dict of its parts.

    Parameters
    ----------
    w_adv, w_con, w_enc : float
        Weights of the adversarial, contextual and encoder losses.
    encoder_loss : {'l2', 'l1', 'smooth_l1'}
        Norm of the encoder loss.
    """

    def __init__(self, w_adv=1.0, w_con=50.0, w_enc=1.0, encoder_loss="l2"):
        super().__init__()
        self.w_adv, self.w_con, self.w_enc = w_adv, w_con, w_enc
        self.encoder_loss = encoder_loss

    def forward(self, x, x_hat, z, z_hat, features_real=None, features_fake=None):
        """Return ``{'loss', 'adv', 'con', 'enc'}``; ``adv`` is 0 without features."""
        con = contextual_loss(x, x_hat)
        enc = encoder_loss(z, z_hat, self.encoder_loss)
        if features_real is None:
            adv = torch.zeros((), device=x.device, dtype=con.dtype)
        else:
            adv = adversarial_loss(features_real, features_fake)
        loss = self.w_adv * adv + self.w_con * con + self.w_enc * enc
        return {"loss": loss, "adv": adv, "con": con, "enc": enc}
