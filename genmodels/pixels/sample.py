"""Draw images pixel by pixel with the text family's sampler (temperature, top-k, top-p), KV-cached."""
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import torch

from genmodels import serving
from genmodels.checkpoint import load_checkpoint, loaded_once
from genmodels.paths import ASSETS
from genmodels.pixels.model import PIXELS, PixelConfig, PixelTransformer, class_token, dequantize
from genmodels.runtime import make_generator, pick_device
from genmodels.text.sampling import Guidance, TokenStep, generate_tokens

ASSET_DIR = ASSETS / "pixels"
REMAKE = "python -m genmodels.pixels.train --preset gpu"


@dataclass(frozen=True)
class PixelModel:
    model: PixelTransformer
    record: dict  # the checkpoint's JSON: config and meta (preset, step, held-out bits per pixel)


@loaded_once
def _load(asset_dir: Path) -> PixelModel:
    model, record = load_checkpoint(PixelTransformer, PixelConfig, asset_dir / "pixel_transformer", REMAKE,
                                    device=pick_device())
    return PixelModel(model, record)


def load_pixel_model(asset_dir: Path | str = ASSET_DIR) -> PixelModel:
    """The pixel transformer from assets/pixels, loaded on first use on the chosen device, in eval mode."""
    return _load(Path(asset_dir))


def guides(label: int | None, scale: float) -> bool:
    """Whether guidance at `scale` changes anything: not at scale 1, nor without a class to push toward."""
    return scale != 1 and label is not None


def evaluations_per_image(label: int | None, scale: float) -> int:
    """Network evaluations an image costs: one per pixel, two when guided (the class's and "any class"'s)."""
    return PIXELS * (2 if guides(label, scale) else 1)


def class_guidance(model: PixelTransformer, label: int | None, scale: float) -> Guidance | None:
    """Classifier-free guidance toward class `label` at `scale` (each image's twin starts with "any class"), or
    None where it changes nothing."""
    return Guidance([class_token(model.config, None)], scale) if guides(label, scale) else None


def pixel_stream(model: PixelTransformer, label: int | None, count: int = 1, temperature: float = 1.0,
                 top_k: int = 0, top_p: float = 1.0, seed: int = 0, guidance: float = 1.0) -> Iterator[TokenStep]:
    """One TokenStep per pixel (784, raster order) for `count` images of class `label` (None: any class), guided
    toward it at scale `guidance`; each step's `token` (count,) holds that pixel's gray level in every image."""
    device = next(model.parameters()).device
    start = class_token(model.config, label)
    return serving.token_steps(model, [start], PIXELS, temperature, top_k, top_p, make_generator(seed, device), count,
                               class_guidance(model, label, guidance))


def sample_levels(model: PixelTransformer, label: int | None, count: int = 1, seed: int = 0,
                  **settings) -> torch.Tensor:
    """`count` finished images of class `label` as gray-level indices (count, 784) on the CPU."""
    return torch.stack([step.token for step in pixel_stream(model, label, count, seed=seed, **settings)], 1).cpu()


def sample_pixels(model: PixelTransformer, label: int | None, count: int = 1, seed: int = 0,
                  **settings) -> torch.Tensor:
    """`count` finished images of class `label` as uint8 (count, 28, 28)."""
    levels = sample_levels(model, label, count, seed, **settings)
    return dequantize(levels, model.config.levels).view(count, 28, 28)  # (count, 28, 28)


def sample_classes(model: PixelTransformer, labels: list[int | None], seed: int = 0,
                   temperature: float = 1.0) -> torch.Tensor:
    """One image per label (None: any class), drawn together as one batch here, without the serving engine (a
    trainer's snapshots use it): uint8 (N, 28, 28)."""
    prompts = [[class_token(model.config, label)] for label in labels]
    generator = make_generator(seed, next(model.parameters()).device)
    steps = generate_tokens(model, prompts, PIXELS, temperature, generator=generator)
    levels = torch.stack([step.token for step in steps], 1).cpu()  # (N, 784)
    return dequantize(levels, model.config.levels).view(len(labels), 28, 28)
