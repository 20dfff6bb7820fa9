"""GANomaly networks: DCGAN convolutional nets for images, MLP twins for tables.

GANomaly (Akcay, Atapour-Abarghouei & Breckon, "GANomaly: Semi-Supervised
Anomaly Detection via Adversarial Training", ACCV 2018) uses a generator made of
an encoder ``G_E``, a decoder ``G_D`` and a second encoder ``E`` (Fig. 2 of the
paper), and a DCGAN discriminator ``D`` whose last feature map drives the
adversarial (feature-matching) loss.

The convolutional nets follow DCGAN (Radford et al., 2016) as the paper and its
reference code do: stride-2 4x4 convolutions halve the image down to 4x4, then
a 4x4 convolution maps to ``latent_dim x 1 x 1``. Images whose side is not a
power of two (28x28, 8x8, 64x48) are padded to the next power-of-two square by
edge replication and the reconstruction is cropped back, so every size works.

The tabular twins are small multilayer perceptrons, after ADBench's tabular
GANomaly; their decoder output is linear because tabular inputs are
standardised rather than squashed into ``[-1, 1]``.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

from ._compat import BATCH_NORM_TYPES

__all__ = [
    "Discriminator",
    "Generator",
    "build_networks",
    "dcgan_init_",
    "network_sizes",
    "network_width",
    "padded_size",
]


def padded_size(height, width):
    """Side of the power-of-two square (at least 8) that holds an image."""
    side = max(height, width, 8)
    return 2 ** math.ceil(math.log2(side))


class _PadToSquare(nn.Module):
    """Pad an image batch to a power-of-two square, and crop it back.

    Edge replication keeps the border statistics of the image (a black MNIST
    background stays black), so the padding carries no artificial edge.
    """

    def __init__(self, height, width):
        super().__init__()
        self.height, self.width = height, width
        side = padded_size(height, width)
        top, left = (side - height) // 2, (side - width) // 2
        # F.pad order: (left, right, top, bottom)
        self.padding = (left, side - width - left, top, side - height - top)

    def pad(self, x):
        if not any(self.padding):
            return x
        return F.pad(x, self.padding, mode="replicate")

    def crop(self, x):
        left, _, top, _ = self.padding
        return x[..., top : top + self.height, left : left + self.width]


class _Identity(nn.Module):
    """Stand-in for ``_PadToSquare`` on tabular data."""

    def pad(self, x):
        return x

    def crop(self, x):
        return x


def _dcgan_encoder_layers(channels, side, width, n_outputs):
    """DCGAN encoder: ``channels x side x side`` -> features -> ``n_outputs``.

    Returns ``(features, head)``: ``features`` ends at the last 4x4 feature
    map (what the discriminator's feature matching uses), ``head`` is the final
    4x4 convolution.
    """
    layers = [
        nn.Conv2d(channels, width, 4, 2, 1, bias=False),
        nn.LeakyReLU(0.2, inplace=True),
    ]
    size, filters = side // 2, width
    while size > 4:
        layers += [
            nn.Conv2d(filters, filters * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(filters * 2),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        filters, size = filters * 2, size // 2
    head = nn.Conv2d(filters, n_outputs, 4, 1, 0, bias=False)
    return nn.Sequential(*layers), head


def _dcgan_decoder(channels, side, width, latent_dim):
    """DCGAN decoder: ``latent_dim x 1 x 1`` -> ``channels x side x side``."""
    filters = width * side // 8
    layers = [
        nn.ConvTranspose2d(latent_dim, filters, 4, 1, 0, bias=False),
        nn.BatchNorm2d(filters),
        nn.ReLU(inplace=True),
    ]
    size = 4
    while size < side // 2:
        layers += [
            nn.ConvTranspose2d(filters, filters // 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(filters // 2),
            nn.ReLU(inplace=True),
        ]
        filters, size = filters // 2, size * 2
    layers += [nn.ConvTranspose2d(filters, channels, 4, 2, 1, bias=False), nn.Tanh()]
    return nn.Sequential(*layers)


def _mlp_encoder(n_inputs, width, n_outputs):
    return nn.Sequential(
        nn.Linear(n_inputs, width),
        nn.BatchNorm1d(width),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Linear(width, n_outputs),
    )


def _mlp_decoder(latent_dim, width, n_outputs):
    return nn.Sequential(
        nn.Linear(latent_dim, width),
        nn.BatchNorm1d(width),
        nn.ReLU(inplace=True),
        nn.Linear(width, n_outputs),
    )


class Generator(nn.Module):
    """Encoder-decoder-encoder generator: ``x -> z -> x_hat -> z_hat``.

    ``forward`` returns ``(x_hat, z, z_hat)`` with ``x_hat`` of the input's
    shape and the latent codes flattened to ``(n, latent_dim)``.
    """

    def __init__(self, encoder, decoder, reencoder, frame):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.reencoder = reencoder
        self.frame = frame

    def forward(self, x):
        z = self.encoder(self.frame.pad(x))
        x_hat = self.frame.crop(self.decoder(z))
        z_hat = self.reencoder(self.frame.pad(x_hat))
        return x_hat, z.flatten(1), z_hat.flatten(1)


class Discriminator(nn.Module):
    """Real/fake discriminator that also exposes its last feature layer.

    ``forward`` returns ``(logits, features)``; logits are pre-sigmoid, so the
    BCE is computed stably with ``binary_cross_entropy_with_logits``.
    """

    def __init__(self, features, classifier, frame):
        super().__init__()
        self.features = features
        self.classifier = classifier
        self.frame = frame

    def forward(self, x):
        features = self.features(self.frame.pad(x))
        return self.classifier(features).flatten(), features


def build_networks(input_shape, latent_dim, width):
    """Build an uninitialised ``(Generator, Discriminator)`` pair.

    Parameters
    ----------
    input_shape : tuple of int
        ``(C, H, W)`` for images (DCGAN nets) or ``(d,)`` for tabular data
        (MLP nets).
    latent_dim : int
        Size of the bottleneck ``z``.
    width : int
        DCGAN base number of filters, or MLP hidden units.
    """
    if len(input_shape) == 3:
        channels, height, width_px = input_shape
        side = padded_size(height, width_px)
        frame = _PadToSquare(height, width_px)
        encoder = nn.Sequential(*_dcgan_encoder_layers(channels, side, width, latent_dim))
        reencoder = nn.Sequential(*_dcgan_encoder_layers(channels, side, width, latent_dim))
        decoder = _dcgan_decoder(channels, side, width, latent_dim)
        features, classifier = _dcgan_encoder_layers(channels, side, width, 1)
        disc_frame = _PadToSquare(height, width_px)
    elif len(input_shape) == 1:
        (n_features,) = input_shape
        frame, disc_frame = _Identity(), _Identity()
        encoder = _mlp_encoder(n_features, width, latent_dim)
        reencoder = _mlp_encoder(n_features, width, latent_dim)
        decoder = _mlp_decoder(latent_dim, width, n_features)
        features = nn.Sequential(
            nn.Linear(n_features, width),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(width, width),
            nn.BatchNorm1d(width),
            nn.LeakyReLU(0.2, inplace=True),
        )
        classifier = nn.Linear(width, 1)
    else:
        raise ValueError(f"input_shape must be (C, H, W) or (d,), got {input_shape}")
    generator = Generator(encoder, decoder, reencoder, frame)
    discriminator = Discriminator(features, classifier, disc_frame)
    return generator, discriminator


def network_sizes(input_shape, latent_dim="auto", width="auto"):
    """``(latent_dim, width)`` with ``'auto'`` resolved for an input shape.

    Images ``(C, H, W)``: a 100-number code (the paper's ``nz``) and 32
    filters (half the paper's 64). Tables ``(d,)``: a code as wide as the
    table, ``min(d, 128)``, and ``min(256, max(64, 2 * d))`` hidden units,
    the sizes the benchmarks' development study chose for the neighbour
    read-out.
    """
    is_image = len(input_shape) == 3
    if latent_dim == "auto":
        latent_dim = 100 if is_image else min(input_shape[0], 128)
    if width == "auto":
        width = 32 if is_image else min(256, max(64, 2 * input_shape[0]))
    return int(latent_dim), int(width)


def network_width(generator):
    """The ``width`` a generator was built with (its encoder's first layer's outputs)."""
    first = next(m for m in generator.encoder.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))
    return int(first.out_channels if isinstance(first, nn.Conv2d) else first.out_features)


@torch.no_grad()
def dcgan_init_(module, generator=None):
    """DCGAN initialisation of one layer, drawn from ``generator``.

    Convolution and linear weights ~ N(0, 0.02), BatchNorm weights ~ N(1, 0.02),
    biases and BatchNorm running statistics reset. Use with
    ``net.apply(partial(dcgan_init_, generator=g))`` so that every layer is
    covered and no global random state is consumed.
    """
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        module.weight.normal_(0.0, 0.02, generator=generator)
        if module.bias is not None:
            module.bias.zero_()
    elif isinstance(module, BATCH_NORM_TYPES):
        module.weight.normal_(1.0, 0.02, generator=generator)
        module.bias.zero_()
        module.reset_running_stats()
