"""The GAN family's public API (`gan_sample`, `gan_interpolate`, `gan_discriminate`): JSON in, JSON out.

`toy_gan_step` is the fourth endpoint; it needs a per-session training run, so it is the Live 2-D GAN tab's
event (gan_tab.py) rather than a stateless function here.
"""
import math

import gradio as gr
import torch

from genmodels.batching import Batcher
from genmodels.checkpoint import CheckpointError
from genmodels.data.examples import load_real_images
from genmodels.data.fashion_mnist import to_model_range
from genmodels.gan.latent import interpolation_path, sample_latents
from genmodels.gan.pretrained import GAN, KINDS, generate, load_gan, p_real
from genmodels.ui import validate
from genmodels.ui.hosting import QUICK, on_gpu
from genmodels.ui.judge import gray_levels, judged

MAX_SAMPLES = 64
MAX_FRAMES = 64
MAX_DISCRIMINATED = 512  # the shipped real test images
MAX_BATCH_REQUESTS = 16  # grids generated together; also gan_sample's concurrency, so that many can wait at once


def gan_model(kind) -> GAN:
    """The healthy or collapsed GAN, or a gr.Error naming what is wrong."""
    if kind not in KINDS:
        raise gr.Error(f"Generator must be one of {', '.join(KINDS)}.")
    try:
        return load_gan(kind)
    except (CheckpointError, FileNotFoundError) as err:
        raise gr.Error(f"The {kind} GAN is unavailable: {err}") from None


def latent_at(gan: GAN, seed, index) -> torch.Tensor:
    """Latent `index` of the grid drawn with `seed` (1, latent_dim): the same z as that grid cell."""
    index = validate.number(index, "Image index", 0, MAX_SAMPLES - 1, integer=True)
    return sample_latents(validate.seed(seed), index + 1, gan.config.latent_dim)[index:]


def sample_grids(requests: list[tuple[str, int, int]]) -> list[dict]:
    """Grids for several (kind, seed, count) requests of one kind in one batch: each is the grid it gets alone."""
    gan = gan_model(requests[0][0])
    z = torch.cat([sample_latents(seed, count, gan.config.latent_dim) for _, seed, count in requests])
    x = generate(gan, z)  # (sum of counts, 1, 28, 28)
    p, verdicts = [round(v, 4) for v in p_real(gan, x).tolist()], judged(x)
    ends = torch.tensor([count for _, _, count in requests]).cumsum(0).tolist()
    return [{"images": gray_levels(x[start:end]), "p_real": p[start:end], "judge": verdicts[start:end]}
            for start, end in zip([0, *ends[:-1]], ends)]


GRID_BATCHER = Batcher(sample_grids, MAX_BATCH_REQUESTS)


@on_gpu(QUICK)
def gan_sample(kind: str = "healthy", seed: int = 0, count: int = 16) -> dict:
    """A grid of `count` generated images from the seed, with the discriminator's P(real) and the judge's verdict."""
    gan_model(kind)  # a clear error for an unknown kind or missing weights, before joining a batch
    count = validate.number(count, "Number of images", 1, MAX_SAMPLES, integer=True)
    return GRID_BATCHER.submit(kind, (kind, validate.seed(seed), count))


def interpolate(gan: GAN, seed_a, index_a, seed_b, index_b, frames) -> dict:
    """Images and latent norms along the linear and the spherical path between two grid latents."""
    frames = validate.number(frames, "Frames", 2, MAX_FRAMES, integer=True)
    z_a, z_b = latent_at(gan, seed_a, index_a), latent_at(gan, seed_b, index_b)
    result = {}
    for kind in ("linear", "spherical"):
        path = interpolation_path(z_a, z_b, frames, kind)  # (frames, latent_dim)
        result[kind] = {"images": generate(gan, path), "norms": path.norm(dim=1).tolist()}
    return result


@on_gpu(QUICK)
def gan_interpolate(kind: str = "healthy", seed_a: int = 0, index_a: int = 0, seed_b: int = 1, index_b: int = 0,
                    frames: int = 16) -> dict:
    """Linear and spherical interpolation between grid image (seed_a, index_a) and (seed_b, index_b)."""
    gan = gan_model(kind)
    paths = interpolate(gan, seed_a, index_a, seed_b, index_b, frames)
    return {kind: {"images": gray_levels(p["images"]), "norms": [round(n, 4) for n in p["norms"]]}
            for kind, p in paths.items()} | {"typical_norm": math.sqrt(gan.config.latent_dim)}


def discriminate(gan: GAN, count, seed) -> tuple[list[float], list[float], torch.Tensor]:
    """The discriminator's P(real) on `count` shipped real test images and on `count` generated ones, and the
    generated images (count, 1, 28, 28)."""
    count = validate.number(count, "Number of images", 1, MAX_DISCRIMINATED, integer=True)
    try:
        real = to_model_range(load_real_images()[:count])
    except (CheckpointError, FileNotFoundError) as err:
        raise gr.Error(str(err)) from None
    fake = generate(gan, sample_latents(validate.seed(seed), count, gan.config.latent_dim))
    return p_real(gan, real).tolist(), p_real(gan, fake).tolist(), fake


@on_gpu(QUICK)
def gan_discriminate(kind: str = "healthy", count: int = 256, seed: int = 0) -> dict:
    """P(real) from the discriminator on real Fashion-MNIST test images and on generated images."""
    real, fake, _ = discriminate(gan_model(kind), count, seed)
    return {"real": [round(p, 4) for p in real], "generated": [round(p, 4) for p in fake],
            "mean_real": sum(real) / len(real), "mean_generated": sum(fake) / len(fake)}


def register_api() -> None:
    """Expose the stateless GAN functions as API endpoints (call inside a gr.Blocks context)."""
    gr.api(gan_sample, api_name="gan_sample", concurrency_limit=MAX_BATCH_REQUESTS)
    for fn in (gan_interpolate, gan_discriminate):
        gr.api(fn, api_name=fn.__name__, concurrency_limit=4)
