"""The diffusion family's JSON endpoints: build the request from the named arguments, call the family, send the result.

Images come back as 28 x 28 lists of 0-255 gray levels so callers get plain JSON.
"""
import gradio as gr

from genmodels.diffusion import map_requests
from genmodels.diffusion import requests as family
from genmodels.serving import ENGINE_CONCURRENCY
from genmodels.ui.hosting import IMAGES, QUICK, on_gpu


@on_gpu(IMAGES)
def diffuse(prompt: str = "a sneaker", guidance: float = 3.0, steps: int = 50, sampler: str = "DDIM",
            eta: float = 0.0, seed: int = 0, count: int = 4) -> dict:
    """Generate `count` images from a text prompt; returns the images, the judge's verdicts and the timing."""
    request = family.DiffusionRequest.build(prompt=prompt, guidance=guidance, steps=steps, sampler=sampler, eta=eta,
                                            seed=seed, count=count)
    return family.diffuse(request).to_json()


@on_gpu(QUICK)
def forward_process(example: int = 7, t: int = 500, seed: int = 0) -> dict:
    """Noise shipped example `example` to timestep t in one jump and reconstruct it with one model call."""
    return family.forward_process(family.ForwardRequest.build(example=example, t=t, seed=seed)).to_json()


@on_gpu(IMAGES)
def compare_guidance(prompt: str = "a sneaker", steps: int = 50, seed: int = 0, count: int = 4) -> dict:
    """The same start noise at guidance 0, 1, 3 and 7 (DDIM, eta 0)."""
    request = family.GuidanceComparisonRequest.build(prompt=prompt, steps=steps, seed=seed, count=count)
    return family.compare_guidance(request).to_json()


@on_gpu(IMAGES)
def interpolate_noise(prompt: str = "a sneaker", seed_a: int = 0, seed_b: int = 1, frames: int = 8, steps: int = 50,
                      guidance: float = 3.0) -> dict:
    """Deterministic DDIM from spherical interpolations between two seeds' start noise: a morph of `frames` images."""
    request = family.InterpolationRequest.build(prompt=prompt, seed_a=seed_a, seed_b=seed_b, frames=frames,
                                                steps=steps, guidance=guidance)
    return family.interpolate_noise(request).to_json()


@on_gpu(QUICK)
def noise_prediction(example: int = 7, t: int = 500, seed: int = 0) -> dict:
    """The U-Net's predicted noise against the noise added to shipped example `example`: their correlation at t and
    at every t of a curve."""
    return family.noise_prediction(family.ForwardRequest.build(example=example, t=t, seed=seed)).to_json()


@on_gpu(IMAGES)
def diffusion_map(prompt: str = "a sneaker", comparison: str = "guidance", guidance: float = 3.0,
                  sampler: str = "DDIM", steps: int = 25, seed: int = 0) -> dict:
    """8 runs' x_t from noise to image, projected onto the plane of their two principal components."""
    request = map_requests.MapRequest.build(prompt=prompt, comparison=comparison, guidance=guidance, sampler=sampler,
                                            steps=steps, seed=seed)
    return map_requests.diffusion_map(request).to_json()


def register_api() -> None:
    """Expose the family's functions as API endpoints (call inside a gr.Blocks context)."""
    gr.api(diffuse, api_name="diffuse", concurrency_limit=ENGINE_CONCURRENCY)
    for fn in (forward_process, compare_guidance, interpolate_noise, noise_prediction, diffusion_map):
        gr.api(fn, api_name=fn.__name__, concurrency_limit=ENGINE_CONCURRENCY)
