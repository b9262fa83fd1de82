"""The committed GANs (a healthy and a mode-collapsed DCGAN), loaded once per process and shared read-only."""
from dataclasses import dataclass
from pathlib import Path

import torch

from genmodels.checkpoint import load_checkpoint, loaded_once
from genmodels.data.fashion_mnist import to_model_range
from genmodels.gan.dcgan import Discriminator, GANConfig, Generator
from genmodels.paths import ASSETS
from genmodels.runtime import pick_device

ASSET_DIR = ASSETS / "gan"
KINDS = ("healthy", "collapsed")
REMAKE = {"healthy": "python -m genmodels.gan.train --preset cpu",
          "collapsed": "python -m genmodels.gan.collapse --preset cpu"}


@dataclass(frozen=True)
class GAN:
    generator: Generator
    discriminator: Discriminator
    config: GANConfig
    record: dict  # the generator checkpoint's JSON: config and meta (preset, steps, loss, collapse, weights dtype)


@loaded_once
def _load(kind: str, asset_dir: Path) -> GAN:
    device = pick_device()
    generator, record = load_checkpoint(Generator, GANConfig, asset_dir / f"{kind}_generator", REMAKE[kind], device)
    discriminator, _ = load_checkpoint(Discriminator, GANConfig, asset_dir / f"{kind}_discriminator", REMAKE[kind],
                                       device)
    return GAN(generator, discriminator, generator.config, record)


def load_gan(kind: str = "healthy", asset_dir: Path | str = ASSET_DIR) -> GAN:
    """Generator and discriminator of `kind` ("healthy" | "collapsed") from assets/gan, in eval mode on the chosen
    device, loaded on first use."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    return _load(kind, Path(asset_dir))


@torch.inference_mode()
def generate(gan: GAN, z: torch.Tensor) -> torch.Tensor:
    """G(z): latents (B, latent_dim) -> images (B, 1, 28, 28) in [-1, 1] on the CPU."""
    device = next(gan.generator.parameters()).device
    return gan.generator(z.to(device).float()).float().cpu()


@torch.inference_mode()
def p_real(gan: GAN, images: torch.Tensor) -> torch.Tensor:
    """D(x) = sigmoid(logit): the discriminator's P(real) (B,) on the CPU for images (B, 1, 28, 28) in [-1, 1]
    (or uint8 (B, 28, 28))."""
    if images.dtype == torch.uint8:
        images = to_model_range(images)
    device = next(gan.discriminator.parameters()).device
    return gan.discriminator(images.to(device).float()).sigmoid().float().cpu()
