"""The diffusion family's public API (`diffuse`, `forward_process`, `compare_guidance`, `interpolate_noise`).

Inputs are validated here (a clear gr.Error otherwise); images come back as 28 x 28 lists of 0-255 gray
levels so callers get plain JSON. The UI handlers reuse the same checks and the same calls.
"""
import gradio as gr
import torch

from genmodels.batching import Batcher
from genmodels.checkpoint import CheckpointError
from genmodels.data.examples import load_examples
from genmodels.data.fashion_mnist import CLASS_NAMES, to_model_range
from genmodels.diffusion import generate
from genmodels.diffusion.pretrained import DiffusionModel, load_diffusion_model
from genmodels.ui import validate
from genmodels.ui.hosting import IMAGES, QUICK, on_gpu
from genmodels.ui.judge import gray_levels, judged

MAX_IMAGES = 16
MAX_PROMPT_CHARS = 300  # the text encoder reads its first 24 tokens; longer prompts are cut there
MAX_STEPS = 1000
MAX_GUIDANCE = 15.0
MAX_FRAMES = 32
GUIDANCE_SCALES = (0.0, 1.0, 3.0, 7.0)
MAX_BATCH_REQUESTS = 16  # requests sampled together; also the endpoint's concurrency, so that many can wait at once


def diffusion_model() -> DiffusionModel:
    """The shared diffusion model, or a gr.Error naming the missing file and the command that makes it."""
    try:
        return load_diffusion_model()
    except (CheckpointError, FileNotFoundError) as err:
        raise gr.Error(f"The diffusion model is unavailable: {err}") from None


def check_settings(prompt, guidance, steps, sampler, eta, seed, count) -> generate.Settings:
    """Validated sampling settings."""
    if sampler not in generate.SAMPLERS:
        raise gr.Error(f"Sampler must be one of {', '.join(generate.SAMPLERS)}.")
    return generate.Settings(
        prompt=validate.text(prompt, "Prompt", MAX_PROMPT_CHARS),
        guidance=validate.number(guidance, "Guidance scale", 0, MAX_GUIDANCE),
        steps=validate.number(steps, "Steps", 1, MAX_STEPS, integer=True),
        sampler=sampler,
        eta=validate.number(eta, "Eta", 0, 1),
        seed=validate.seed(seed),
        count=validate.number(count, "Number of images", 1, MAX_IMAGES, integer=True),
    )


@on_gpu(IMAGES)
def diffuse(prompt: str = "a sneaker", guidance: float = 3.0, steps: int = 50, sampler: str = "DDIM",
            eta: float = 0.0, seed: int = 0, count: int = 4) -> dict:
    """Generate `count` images from a text prompt; returns the images, the judge's verdicts and the timing."""
    dm = diffusion_model()
    settings = check_settings(prompt, guidance, steps, sampler, eta, seed, count)
    trajectory = DIFFUSE_BATCHER.submit(generate.batch_key(settings), settings)
    similarity = generate.understood(dm, settings.prompt)
    return {"images": gray_levels(trajectory.images), "judge": judged(trajectory.images),
            "understood": dict(zip(CLASS_NAMES, [round(s, 4) for s in similarity])),
            "timesteps": trajectory.timesteps, "noise_levels": trajectory.noise_levels,
            "seconds": trajectory.seconds, "network_evaluations_per_image": trajectory.network_evaluations}


DIFFUSE_BATCHER = Batcher(lambda requests: generate.sample_requests(diffusion_model(), requests), MAX_BATCH_REQUESTS)


def example_image(example: int) -> torch.Tensor:
    """Shipped example `example` (0-9, one per class) as (1, 1, 28, 28) in [-1, 1]."""
    try:
        return to_model_range(load_examples()[example:example + 1])
    except (CheckpointError, FileNotFoundError) as err:
        raise gr.Error(str(err)) from None


@on_gpu(QUICK)
def forward_process(example: int = 7, t: int = 500, seed: int = 0) -> dict:
    """Noise shipped example `example` to timestep t in one jump and reconstruct it with one model call."""
    dm = diffusion_model()
    example = validate.number(example, "Example", 0, len(CLASS_NAMES) - 1, integer=True)
    t = validate.number(t, "Timestep t", 0, dm.schedule.T - 1, integer=True)
    view = generate.forward_process(dm, example_image(example), t, validate.seed(seed))
    return {"class": CLASS_NAMES[example], "t": t, "signal": view.signal, "noise_level": view.noise_level,
            "x0": gray_levels(view.x0)[0], "x_t": gray_levels(view.x_t)[0], "x0_pred": gray_levels(view.x0_pred)[0],
            "reconstruction_rmse": view.reconstruction_rmse}


@on_gpu(IMAGES)
def compare_guidance(prompt: str = "a sneaker", steps: int = 50, seed: int = 0, count: int = 4) -> dict:
    """The same start noise at guidance 0, 1, 3 and 7 (DDIM, eta 0)."""
    dm = diffusion_model()
    settings = check_settings(prompt, 3.0, steps, "DDIM", 0.0, seed, count)
    batches = generate.compare_guidance(dm, settings, GUIDANCE_SCALES)
    return {"scales": list(GUIDANCE_SCALES), "images": [gray_levels(b) for b in batches],
            "judge": [judged(b) for b in batches]}


@on_gpu(IMAGES)
def interpolate_noise(prompt: str = "a sneaker", seed_a: int = 0, seed_b: int = 1, frames: int = 8, steps: int = 50,
                      guidance: float = 3.0) -> dict:
    """Deterministic DDIM from spherical interpolations between two seeds' start noise: a morph of `frames` images."""
    dm = diffusion_model()
    settings = check_settings(prompt, guidance, steps, "DDIM", 0.0, seed_a, 1)
    frames = validate.number(frames, "Frames", 2, MAX_FRAMES, integer=True)
    x = generate.interpolate_noise(dm, settings, validate.seed(seed_b), frames)
    return {"images": gray_levels(x), "judge": judged(x)}


def register_api() -> None:
    """Expose the four functions as API endpoints (call inside a gr.Blocks context)."""
    gr.api(diffuse, api_name="diffuse", concurrency_limit=MAX_BATCH_REQUESTS)
    for fn in (forward_process, compare_guidance, interpolate_noise):
        gr.api(fn, api_name=fn.__name__, concurrency_limit=2)
