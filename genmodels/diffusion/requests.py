"""The diffusion family's requests and results: every limit, every check, and the functions the page and the API share.

A request is built from named values (`DiffusionRequest.build(prompt=..., steps=...)`), which validates them
against LIMITS or raises RequestError; the family's function takes the request and returns a result; the API sends
`result.to_json()`, the page draws the result.
"""
import functools
import math
from dataclasses import dataclass
from typing import Iterator

import torch

from genmodels.checkpoint import CheckpointError
from genmodels.data.examples import load_examples
from genmodels.data.fashion_mnist import CLASS_NAMES, to_model_range
from genmodels.diffusion import generate, trajectory_map
from genmodels.diffusion.pretrained import DiffusionModel, load_diffusion_model
from genmodels.diffusion.samplers import DiffusionStep, respaced_timesteps
from genmodels.diffusion.schedule import signal_noise_levels
from genmodels.errors import RequestError
from genmodels.eval.judge import gray_levels, judged
from genmodels.validation import SEED, Bound, Choice, Text

LIMITS = {
    "prompt": Text("Prompt", 300),  # the text encoder reads its first 24 tokens; longer prompts are cut there
    "guidance": Bound("Guidance scale", 0, 15),
    "steps": Bound("Steps", 1, 1000, integer=True),
    "sampler": Choice("Sampler", generate.SAMPLERS),
    "eta": Bound("Eta", 0, 1),
    "seed": SEED,
    "count": Bound("Number of images", 1, 16, integer=True),
    "frames": Bound("Frames", 2, 32, integer=True),
    "t": Bound("Timestep t", 0, math.inf, integer=True),  # below the schedule's T: `ForwardRequest.build` narrows it
    "example": Bound("Example", 0, len(CLASS_NAMES) - 1, integer=True),  # the shipped test images, one per class
    "step": Bound("Step", 1, 1000, integer=True),  # a recorded step to inspect (1-based)
    "comparison": Choice("Comparison", trajectory_map.COMPARISONS),  # what differs between a map's paths
    "map_steps": Bound("Map steps", 2, 100, integer=True),  # each of a map's 8 runs: 800 steps at most
}
MAX_IMAGES = LIMITS["count"].high
MAX_PROMPT_CHARS = LIMITS["prompt"].max_chars
MAX_STEPS = LIMITS["steps"].high
MAX_GUIDANCE = LIMITS["guidance"].high
MAX_FRAMES = LIMITS["frames"].high
GUIDANCE_SCALES = trajectory_map.GUIDANCE_SCALES
CURVE_POINTS = 50  # timesteps of the noise-prediction curve: one batched U-Net call


def diffusion_model() -> DiffusionModel:
    """The shared diffusion model, or a RequestError naming the missing file and the command that makes it."""
    try:
        return load_diffusion_model()
    except (CheckpointError, FileNotFoundError) as err:
        raise RequestError(f"The diffusion model is unavailable: {err}") from None


def example_image(example: int) -> torch.Tensor:
    """Shipped example `example` (0-9, one per class) as (1, 1, 28, 28) in [-1, 1]."""
    try:
        return to_model_range(load_examples()[example:example + 1])
    except (CheckpointError, FileNotFoundError) as err:
        raise RequestError(str(err)) from None


def example_index(name: str) -> int:
    """The index of the shipped example of class `name` (what the page's picker shows)."""
    if name not in CLASS_NAMES:
        raise RequestError(f"Pick one of the examples: {', '.join(CLASS_NAMES)}.")
    return CLASS_NAMES.index(name)


@dataclass(frozen=True)
class DiffusionRequest(generate.Settings):
    """Sample `count` images from `prompt`: the sampler's Settings, validated (same request, same images on a
    device)."""

    @classmethod
    def build(cls, prompt="a sneaker", guidance=3.0, steps=50, sampler="DDIM", eta=0.0, seed=0,
              count=4) -> "DiffusionRequest":
        return cls(prompt=LIMITS["prompt"].check(prompt), guidance=LIMITS["guidance"].check(guidance),
                   steps=LIMITS["steps"].check(steps), sampler=LIMITS["sampler"].check(sampler),
                   eta=LIMITS["eta"].check(eta), seed=LIMITS["seed"].check(seed), count=LIMITS["count"].check(count))


@dataclass(frozen=True)
class DiffusionResult:
    """A request's trajectory (final images, recorded steps when streamed), the judge's verdicts on the images, the
    prompt's similarity to each class and the device that sampled."""
    request: DiffusionRequest
    trajectory: generate.Trajectory
    verdicts: list[dict]
    understood: list[float]
    device: str

    def to_json(self) -> dict:
        t = self.trajectory
        return {"images": gray_levels(t.images), "judge": self.verdicts,
                "understood": dict(zip(CLASS_NAMES, [round(s, 4) for s in self.understood])),
                "timesteps": t.timesteps, "noise_levels": t.noise_levels,
                "seconds": t.seconds, "network_evaluations_per_image": t.network_evaluations}


def understood(prompt: str) -> list[float]:
    """The prompt's cosine similarity to each class's prototype (10,), as the text encoder reads it."""
    dm = diffusion_model()
    return generate.understood(dm, LIMITS["prompt"].check(prompt))


def diffusion_result(request: DiffusionRequest, trajectory: generate.Trajectory) -> DiffusionResult:
    """The result of a finished trajectory: the judge's verdicts and what the encoder understood of the prompt."""
    dm = diffusion_model()
    return DiffusionResult(request, trajectory, judged(trajectory.images), generate.understood(dm, request.prompt),
                           str(dm.unet.conv_in.weight.device))


def diffuse(request: DiffusionRequest) -> DiffusionResult:
    """The finished images (nothing is recorded); the engine steps them together with concurrent requests."""
    return diffusion_result(request, generate.sample(diffusion_model(), request, keep=0))


def diffuse_stream(request: DiffusionRequest) -> Iterator[tuple[DiffusionStep, generate.Trajectory]]:
    """(step, trajectory so far) after every step, about 100 of them recorded; pass the last trajectory to
    diffusion_result. Alone, not batched: a shared batch could not stream each request its own steps."""
    yield from generate.sample_stream(diffusion_model(), request)


def diffuse_recorded(request: DiffusionRequest) -> DiffusionResult:
    """What diffuse_stream ends with, at once (what a cached example stores)."""
    return diffusion_result(request, generate.sample(diffusion_model(), request))


@dataclass(frozen=True)
class ForwardRequest:
    """Push shipped example `example` to timestep `t` with noise drawn from `seed`."""
    example: int
    t: int
    seed: int

    @classmethod
    def build(cls, example=7, t=500, seed=0) -> "ForwardRequest":
        dm = diffusion_model()
        example = LIMITS["example"].check(example)
        return cls(example, LIMITS["t"].check(t, high=dm.schedule.T - 1), LIMITS["seed"].check(seed))


@dataclass(frozen=True)
class ForwardResult:
    """The view of the example at t, and the schedule's signal and noise curves over every t for the page's plot."""
    request: ForwardRequest
    view: generate.ForwardView
    signal_curve: list[float]
    noise_curve: list[float]

    def to_json(self) -> dict:
        v = self.view
        return {"class": CLASS_NAMES[self.request.example], "t": self.request.t, "signal": v.signal,
                "noise_level": v.noise_level, "x0": gray_levels(v.x0)[0], "x_t": gray_levels(v.x_t)[0],
                "x0_pred": gray_levels(v.x0_pred)[0], "reconstruction_rmse": v.reconstruction_rmse}


def forward_process(request: ForwardRequest) -> ForwardResult:
    """Noise the example to t in one jump and reconstruct it with one model call."""
    dm = diffusion_model()
    view = generate.forward_process(dm, example_image(request.example), request.t, request.seed)
    signal, noise = (c.tolist() for c in signal_noise_levels(dm.schedule))
    return ForwardResult(request, view, signal, noise)


def rounded(x: torch.Tensor, digits: int = 4) -> list:
    """A tensor as nested lists of floats rounded to `digits`."""
    return x.double().numpy().round(digits).tolist()


@dataclass(frozen=True)
class NoisePredictionResult:
    """The forward view at t, the correlation of its true and predicted noise, and that correlation over t."""
    forward: ForwardResult
    correlation: float  # Pearson's r of eps and eps_hat over the 784 pixels at the request's t
    curve_timesteps: list[int]  # (CURVE_POINTS,) ascending
    curve_noise_levels: list[float]  # sqrt(1 - abar_t) at each
    curve_correlations: list[float]  # r at each, for the same x0 and eps

    def to_json(self) -> dict:
        v = self.forward.view
        return {"class": CLASS_NAMES[self.forward.request.example], "t": self.forward.request.t,
                "noise_level": v.noise_level, "correlation": round(self.correlation, 6),
                "noise": rounded(v.noise[0, 0]), "eps_pred": rounded(v.eps_pred[0, 0]),
                "curve": {"timesteps": self.curve_timesteps, "noise_levels": self.curve_noise_levels,
                          "correlations": self.curve_correlations}}


@functools.lru_cache(maxsize=128)
def noise_curve(example: int, seed: int) -> tuple[list[int], list[float]]:
    """r(eps, eps_hat) at CURVE_POINTS timesteps for the example and the seed's noise; the t slider leaves it as it is,
    so it is computed once per (example, seed)."""
    dm = diffusion_model()
    timesteps = respaced_timesteps(dm.schedule.T, CURVE_POINTS)[::-1]
    noise, _, eps = generate.noised_predictions(dm, example_image(example), timesteps, seed)
    return timesteps, [round(r, 6) for r in generate.noise_correlation(noise, eps).tolist()]


def noise_prediction(request: ForwardRequest) -> NoisePredictionResult:
    """How well the U-Net names the noise it is shown: at the request's t, and at every t of the curve."""
    forward = forward_process(request)
    view = forward.view
    timesteps, correlations = noise_curve(request.example, request.seed)
    noise_levels = [forward.noise_curve[t] for t in timesteps]
    return NoisePredictionResult(forward, generate.noise_correlation(view.noise, view.eps_pred).item(), timesteps,
                                 noise_levels, correlations)


@dataclass(frozen=True)
class GuidanceComparisonRequest:
    """The same start noise sampled at every scale of GUIDANCE_SCALES (DDIM, eta 0)."""
    prompt: str
    steps: int
    seed: int
    count: int

    @classmethod
    def build(cls, prompt="a sneaker", steps=50, seed=0, count=4) -> "GuidanceComparisonRequest":
        return cls(LIMITS["prompt"].check(prompt), LIMITS["steps"].check(steps), LIMITS["seed"].check(seed),
                   LIMITS["count"].check(count))


@dataclass(frozen=True)
class GuidanceComparisonResult:
    """One image batch (B, 1, 28, 28) and its verdicts per scale."""
    scales: tuple[float, ...]
    batches: list[torch.Tensor]
    verdicts: list[list[dict]]

    def to_json(self) -> dict:
        return {"scales": list(self.scales), "images": [gray_levels(b) for b in self.batches], "judge": self.verdicts}


def compare_guidance(request: GuidanceComparisonRequest) -> GuidanceComparisonResult:
    """Sample the request's start noise once per guidance scale, so only the scale differs between batches."""
    dm = diffusion_model()
    settings = generate.Settings(prompt=request.prompt, steps=request.steps, sampler="DDIM", eta=0.0, seed=request.seed,
                                 count=request.count)
    batches = generate.compare_guidance(dm, settings, GUIDANCE_SCALES)
    return GuidanceComparisonResult(GUIDANCE_SCALES, batches, [judged(b) for b in batches])


@dataclass(frozen=True)
class InterpolationRequest:
    """A morph of `frames` images between seed A's and seed B's start noise (spherical interpolation, DDIM eta 0)."""
    prompt: str
    seed_a: int
    seed_b: int
    frames: int
    steps: int
    guidance: float

    @classmethod
    def build(cls, prompt="a sneaker", seed_a=0, seed_b=1, frames=8, steps=50, guidance=3.0) -> "InterpolationRequest":
        return cls(prompt=LIMITS["prompt"].check(prompt), seed_a=LIMITS["seed"].check(seed_a),
                   seed_b=LIMITS["seed"].check(seed_b), frames=LIMITS["frames"].check(frames),
                   steps=LIMITS["steps"].check(steps), guidance=LIMITS["guidance"].check(guidance))


@dataclass(frozen=True)
class InterpolationResult:
    """The frames (frames, 1, 28, 28) in [-1, 1], from seed A's image to seed B's, and their verdicts."""
    images: torch.Tensor
    verdicts: list[dict]

    def to_json(self) -> dict:
        return {"images": gray_levels(self.images), "judge": self.verdicts}


def interpolate_noise(request: InterpolationRequest) -> InterpolationResult:
    """Deterministic DDIM from spherical interpolations between the two seeds' start noise."""
    r = request
    settings = generate.Settings(prompt=r.prompt, guidance=r.guidance, steps=r.steps, seed=r.seed_a, count=1)
    images = generate.interpolate_noise(diffusion_model(), settings, r.seed_b, r.frames)
    return InterpolationResult(images, judged(images))
