"""The GAN family's JSON endpoints: build the request from the named arguments, call the family, send the result.

`toy_gan_step` is the fourth endpoint; it needs a per-session training run, so it is the Live 2-D GAN's event
(toy.py) rather than a stateless function here.
"""
import gradio as gr

from genmodels.gan import requests as family
from genmodels.ui.hosting import QUICK, on_gpu


@on_gpu(QUICK)
def gan_sample(kind: str = "healthy", seed: int = 0, count: int = 16) -> dict:
    """A grid of `count` generated images from the seed, with the discriminator's P(real) and the judge's verdict."""
    return family.sample_grid(family.SampleRequest.build(kind=kind, seed=seed, count=count)).to_json()


@on_gpu(QUICK)
def gan_interpolate(kind: str = "healthy", seed_a: int = 0, index_a: int = 0, seed_b: int = 1, index_b: int = 0,
                    frames: int = 16) -> dict:
    """Linear and spherical interpolation between grid image (seed_a, index_a) and (seed_b, index_b)."""
    request = family.InterpolateRequest.build(kind=kind, seed_a=seed_a, index_a=index_a, seed_b=seed_b,
                                              index_b=index_b, frames=frames)
    return family.interpolate(request).to_json()


@on_gpu(QUICK)
def gan_discriminate(kind: str = "healthy", count: int = 256, seed: int = 0) -> dict:
    """P(real) from the discriminator on real Fashion-MNIST test images and on generated images."""
    return family.discriminate(family.DiscriminateRequest.build(kind=kind, count=count, seed=seed)).to_json()


def register_api() -> None:
    """Expose the stateless GAN functions as API endpoints (call inside a gr.Blocks context)."""
    gr.api(gan_sample, api_name="gan_sample", concurrency_limit=family.MAX_BATCH_REQUESTS)
    for fn in (gan_interpolate, gan_discriminate):
        gr.api(fn, api_name=fn.__name__, concurrency_limit=4)
