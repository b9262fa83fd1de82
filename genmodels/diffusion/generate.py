"""Text-to-image sampling with the committed model: conditioning, start noise, recorded trajectories, and the
experiments the app runs (guidance comparison, forward process, noise-space interpolation)."""
import time
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Iterator

import torch
from tokenizers import Tokenizer

from genmodels.diffusion.pretrained import DiffusionModel, make_denoiser
from genmodels.diffusion.samplers import DiffusionStep, ddim_steps, ddpm_steps, respaced_timesteps
from genmodels.diffusion.schedule import predict_x0, q_sample
from genmodels.diffusion.text_encoder import TextEncoder, class_prototypes, class_similarity, encode_prompts
from genmodels import serving
from genmodels.interpolate import slerp
from genmodels.runtime import make_generator, synchronize

SAMPLERS = ("DDIM", "DDPM")
Conditions = tuple[torch.Tensor, torch.Tensor]  # (cond, uncond) text vectors, (B, D) each


@dataclass(frozen=True)
class Settings:
    """Everything that determines a sample: same settings and seed give the same images on one device."""
    prompt: str = ""
    guidance: float = 3.0
    steps: int = 50
    sampler: str = "DDIM"
    eta: float = 0.0
    seed: int = 0
    count: int = 4


@dataclass
class RecordedStep:
    """A step kept for display, on the CPU in fp16: x_t, predicted x0 and predicted noise (B, 1, 28, 28)."""
    index: int
    t: int
    noise_level: float  # sqrt(1 - abar_t)
    x_t: torch.Tensor
    x0_pred: torch.Tensor
    eps_pred: torch.Tensor


@dataclass
class Trajectory:
    """The final images (B, 1, 28, 28) in [-1, 1] and the recorded steps, with timing."""
    images: torch.Tensor
    steps: list[RecordedStep] = field(default_factory=list)
    timesteps: list[int] = field(default_factory=list)
    noise_levels: list[float] = field(default_factory=list)  # sqrt(1 - abar_t) at every step taken
    seconds: float = 0.0
    network_evaluations: int = 0  # U-Net forward passes per image (two per step with guidance)


def conditioning(dm: DiffusionModel, prompt: str, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Text vectors (count, D) for the prompt and for the empty prompt."""
    device = dm.unet.conv_in.weight.device
    with torch.inference_mode():
        vectors = encode_prompts(dm.text_encoder, dm.tokenizer, [prompt, ""], device)  # (2, D)
    return vectors[:1].expand(count, -1), vectors[1:].expand(count, -1)


@cache
def prototypes_of(encoder: TextEncoder, tokenizer: Tokenizer, device: torch.device) -> torch.Tensor:
    """The class prototypes (10, D) of a loaded text encoder, computed once."""
    with torch.inference_mode():
        return class_prototypes(encoder, tokenizer, device)


def understood(dm: DiffusionModel, prompt: str) -> list[float]:
    """Cosine similarity of the prompt's vector with each class's prototype (10,)."""
    device = dm.unet.conv_in.weight.device
    with torch.inference_mode():
        prototypes = prototypes_of(dm.text_encoder, dm.tokenizer, device)
        return class_similarity(dm.text_encoder, dm.tokenizer, [prompt], device, prototypes)[0].tolist()


def start_noise(seed: int, count: int, device) -> torch.Tensor:
    """x_T ~ N(0, I) (count, 1, 28, 28) from the seed; image i depends only on (seed, i)."""
    noise = [torch.randn(1, 28, 28, generator=make_generator(seed * 1000 + i)) for i in range(count)]
    return torch.stack(noise).to(device)  # (count, 1, 28, 28)


def step_generator(dm: DiffusionModel, settings: Settings, x_T: torch.Tensor,
                   conditions: Conditions | None = None) -> Iterator[DiffusionStep]:
    """The chosen sampler's steps from x_T under the settings' prompt (or the given (cond, uncond)) and guidance."""
    cond, uncond = conditioning(dm, settings.prompt, len(x_T)) if conditions is None else conditions
    timesteps = respaced_timesteps(dm.schedule.T, settings.steps)
    generator = make_generator(settings.seed, x_T.device)
    if settings.sampler == "DDIM" and settings.eta == 0:
        generator = None  # deterministic: no fresh noise
    if serving.batching_enabled():  # the U-Net's engine steps it together with every other request
        engine = serving.denoising_engine(dm.unet, dm.schedule)
        return engine.steps(x_T, timesteps, cond, uncond, settings.guidance, settings.sampler, settings.eta, generator)
    denoise = make_denoiser(dm.unet, cond, uncond, settings.guidance)
    if settings.sampler == "DDPM":
        return ddpm_steps(denoise, x_T, dm.schedule, timesteps, generator)
    return ddim_steps(denoise, x_T, dm.schedule, timesteps, settings.eta, generator)


def recorded_indices(steps: int, keep: int) -> set[int]:
    """About `keep` evenly spaced step indices, always the first and the last (none when keep is 0)."""
    if keep <= 1:
        return set() if keep <= 0 else {steps - 1}
    if steps <= keep:
        return set(range(steps))
    return {round(i * (steps - 1) / (keep - 1)) for i in range(keep)}


def sample_stream(dm: DiffusionModel, settings: Settings, x_T: torch.Tensor | None = None, keep: int = 100,
                  conditions: Conditions | None = None) -> Iterator[tuple[DiffusionStep, Trajectory]]:
    """Run the sampler, yielding (step, trajectory so far) after every step; about `keep` steps are recorded.
    After the last step trajectory.images holds the final images (B, 1, 28, 28) in [-1, 1] on the CPU."""
    device = dm.unet.conv_in.weight.device
    x_T = start_noise(settings.seed, settings.count, device) if x_T is None else x_T
    keep_at = recorded_indices(settings.steps, keep)
    trajectory = Trajectory(images=x_T, network_evaluations=settings.steps * (1 if settings.guidance in (0, 1) else 2))
    resumed = time.perf_counter()
    for step in step_generator(dm, settings, x_T, conditions):  # the denoiser runs in inference mode
        trajectory.timesteps.append(step.t)
        trajectory.noise_levels.append(step.noise_level)
        if step.index in keep_at:
            trajectory.steps.append(RecordedStep(step.index, step.t, step.noise_level, *(
                v.detach().to("cpu", torch.float16) for v in (step.x_t, step.x0_pred, step.eps_pred))))
        if step.index == settings.steps - 1:
            trajectory.images = step.x_prev.float().clamp(-1, 1).cpu()
        synchronize(device)
        trajectory.seconds += time.perf_counter() - resumed  # compute only, not the consumer's time
        yield step, trajectory
        resumed = time.perf_counter()


def sample(dm: DiffusionModel, settings: Settings, x_T: torch.Tensor | None = None, keep: int = 100,
           conditions: Conditions | None = None) -> Trajectory:
    """Drain sample_stream: the finished trajectory."""
    trajectory = None
    for _, trajectory in sample_stream(dm, settings, x_T, keep, conditions):
        pass
    return trajectory


def compare_guidance(dm: DiffusionModel, settings: Settings, scales=(0.0, 1.0, 3.0, 7.0)) -> list[torch.Tensor]:
    """The same start noise sampled at each guidance scale: a list of (B, 1, 28, 28) image batches."""
    x_T = start_noise(settings.seed, settings.count, dm.unet.conv_in.weight.device)
    streams = [sample_stream(dm, replace(settings, guidance=s), x_T, keep=0) for s in scales]
    for records in zip(*streams, strict=True):  # in step, so that the scales share the U-Net engine's ticks
        pass
    return [trajectory.images for _, trajectory in records]


def interpolate_noise(dm: DiffusionModel, settings: Settings, seed_b: int, frames: int) -> torch.Tensor:
    """Deterministic DDIM (eta = 0) from slerp(noise_a, noise_b, alpha) for `frames` alphas in [0, 1]:
    (frames, 1, 28, 28), a smooth morph between the two seeds' images."""
    device = dm.unet.conv_in.weight.device
    noise_a, noise_b = start_noise(settings.seed, 1, device), start_noise(seed_b, 1, device)
    alphas = torch.linspace(0, 1, frames).tolist()
    x_T = torch.cat([slerp(noise_a, noise_b, a) for a in alphas])  # (frames, 1, 28, 28)
    ddim = replace(settings, sampler="DDIM", eta=0.0, count=frames)
    return sample(dm, ddim, x_T, keep=0).images


@dataclass
class ForwardView:
    """One image pushed to timestep t, and the model's one-shot estimate of x0 from it."""
    x0: torch.Tensor  # (1, 1, 28, 28)
    noise: torch.Tensor  # the epsilon added
    x_t: torch.Tensor
    x0_pred: torch.Tensor  # (x_t - sqrt(1 - abar_t) eps_hat) / sqrt(abar_t), clamped to [-1, 1]
    eps_pred: torch.Tensor
    signal: float  # sqrt(abar_t)
    noise_level: float  # sqrt(1 - abar_t)
    reconstruction_rmse: float  # of x0_pred against x0, in [-1, 1] units


def noised_predictions(dm: DiffusionModel, x0: torch.Tensor, timesteps: list[int], seed: int,
                       prompt: str = "") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One image x0 (1, 1, 28, 28) pushed to each timestep with the same noise eps drawn from the seed, and the
    U-Net's eps_hat at each, from one batched call: (eps (1, 1, 28, 28), x_t (N, 1, 28, 28), eps_hat (N, 1, 28, 28))."""
    device = dm.unet.conv_in.weight.device
    x0 = x0.to(device)
    noise = torch.randn(x0.shape, generator=make_generator(seed)).to(device)
    t_batch = torch.tensor(timesteps, dtype=torch.long, device=device)  # (N,)
    cond, _ = conditioning(dm, prompt, len(t_batch))
    with torch.inference_mode():
        x_t = q_sample(dm.schedule, x0.expand(len(t_batch), -1, -1, -1), t_batch, noise)
        return noise, x_t, dm.unet(x_t, t_batch, cond)


def noise_correlation(noise: torch.Tensor, eps_pred: torch.Tensor) -> torch.Tensor:
    """Pearson's r between the true and the predicted noise over each image's pixels: (B,) from (B, 1, 28, 28) each
    (a single true noise (1, 1, 28, 28) is compared with every prediction)."""
    true, predicted = (v.flatten(1).float() - v.flatten(1).float().mean(1, keepdim=True) for v in (noise, eps_pred))
    return (true * predicted).sum(1) / (true.norm(dim=1) * predicted.norm(dim=1))


def forward_process(dm: DiffusionModel, x0: torch.Tensor, t: int, seed: int, prompt: str = "") -> ForwardView:
    """x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps in one jump, and x0_hat from the model's eps_hat."""
    noise, x_t, eps = noised_predictions(dm, x0, [t], seed, prompt)
    x0 = x0.to(x_t.device)
    with torch.inference_mode():
        x0_pred = predict_x0(dm.schedule, x_t, torch.full((1,), t, device=x_t.device), eps).clamp(-1, 1)
    abar = dm.schedule.abar(t)
    rmse = (x0_pred - x0).pow(2).mean().sqrt().item()
    return ForwardView(*(v.cpu() for v in (x0, noise, x_t, x0_pred, eps)), abar ** 0.5, (1 - abar) ** 0.5, rmse)
