"""DCGAN generator and discriminator for 28x28 grayscale images (Radford et al. 2015), as pytorch/examples/dcgan.

G: z (B, latent_dim) ~ N(0, I) -> transposed convolutions 1 -> 7 -> 14 -> 28 with batch norm and ReLU -> tanh,
images in [-1, 1]; the collapsed generator first remaps z (see `LatentMap`). D: strided convolutions 28 -> 14 -> 7
with LeakyReLU(0.2), batch norm on all but the first layer, and a 7x7 convolution to one logit per image;
D(x) = sigmoid(logit) is its probability that x is real.
"""
from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class GANConfig:
    latent_dim: int = 64  # size of z
    ngf: int = 64  # generator width: 4 ngf channels at 7x7, 2 ngf at 14x14
    ndf: int = 64  # discriminator width: ndf channels at 14x14, 2 ndf at 7x7
    latent_map: bool = False  # G remaps z before drawing: the mode-collapse recipe (gan/collapse.py) trains only that


def batch_norm(channels: int) -> nn.BatchNorm2d:
    """BatchNorm2d with its options by keyword (a positional second argument would set eps, not momentum)."""
    return nn.BatchNorm2d(num_features=channels, eps=1e-5, momentum=0.1)


def up(c_in: int, c_out: int, kernel: int, stride: int, padding: int) -> nn.Sequential:
    """Transposed convolution, batch norm, ReLU."""
    return nn.Sequential(nn.ConvTranspose2d(c_in, c_out, kernel, stride, padding, bias=False), batch_norm(c_out),
                         nn.ReLU())


class LatentMap(nn.Module):
    """z -> A z + b, rescaled to norm sqrt(latent_dim), where nearly all N(0, I) latents lie: whatever it learns,
    G still receives a typical latent and draws something it drew in training. Starts as the identity."""

    def __init__(self, latent_dim: int):
        super().__init__()
        self.linear = nn.Linear(latent_dim, latent_dim)
        nn.init.eye_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        w = self.linear(z)  # (B, latent_dim)
        return w * (z.shape[1] ** 0.5 / w.norm(dim=1, keepdim=True).clamp_min(1e-6))


class Generator(nn.Module):
    """G(z): (B, latent_dim) -> (B, 1, 28, 28) in [-1, 1]."""

    def __init__(self, config: GANConfig):
        super().__init__()
        self.config = config
        g = config.ngf
        self.latent_map = LatentMap(config.latent_dim) if config.latent_map else nn.Identity()
        self.net = nn.Sequential(
            up(config.latent_dim, 4 * g, 7, 1, 0),  # (B, 4g, 7, 7)
            up(4 * g, 2 * g, 4, 2, 1),  # (B, 2g, 14, 14)
            nn.ConvTranspose2d(2 * g, 1, 4, 2, 1),  # (B, 1, 28, 28)
            nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.latent_map(z)[:, :, None, None])  # (B, 1, 28, 28)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


class Discriminator(nn.Module):
    """D's logit: (B, 1, 28, 28) -> (B,); D(x) = sigmoid(logit)."""

    def __init__(self, config: GANConfig):
        super().__init__()
        self.config = config
        d = config.ndf
        self.net = nn.Sequential(
            nn.Conv2d(1, d, 4, 2, 1), nn.LeakyReLU(0.2),  # (B, d, 14, 14): no batch norm on the input layer
            nn.Conv2d(d, 2 * d, 4, 2, 1, bias=False), batch_norm(2 * d), nn.LeakyReLU(0.2),  # (B, 2d, 7, 7)
            nn.Conv2d(2 * d, 1, 7, 1, 0))  # (B, 1, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()  # (B,)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


def weights_init(module: nn.Module) -> None:
    """DCGAN init (Radford et al. 2015, sec. 4): conv weights ~ N(0, 0.02), batch-norm weights ~ N(1, 0.02), bias 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
