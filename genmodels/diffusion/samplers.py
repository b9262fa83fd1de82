"""Reverse-process samplers, DDPM (Ho et al. 2020) and DDIM (Song et al. 2020), as generators of steps.

Both walk any strictly decreasing list of timesteps t_0 > t_1 > ... (see respaced_timesteps); each step
maps x_t to x_{t_prev}, with t_prev = -1 (clean data, abar = 1) after the last. `denoise(x_t, t_batch)`
returns the predicted noise eps (B, C, H, W); classifier-free guidance is applied inside it by the caller.
Fresh noise comes only from the given torch.Generator: one torch.randn(x.shape) per step that adds noise.
"""
import math
from dataclasses import dataclass
from typing import Callable, Iterator

import torch

from genmodels.diffusion.schedule import NoiseSchedule, predict_x0

Denoiser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (x_t (B, C, H, W), t (B,)) -> eps (B, C, H, W)


def classifier_free_guidance(eps_uncond: torch.Tensor, eps_cond: torch.Tensor, scale: float) -> torch.Tensor:
    """eps = eps_uncond + s (eps_cond - eps_uncond) (Ho & Salimans 2022); lerp makes s = 1 and s = 0 exact."""
    return torch.lerp(eps_uncond, eps_cond, scale)


def respaced_timesteps(T: int, steps: int) -> list[int]:
    """`steps` timesteps evenly spaced from T - 1 down to 0, both ends included (halves round up); 1 step is [T - 1]."""
    if not 1 <= steps <= T:
        raise ValueError(f"steps must be between 1 and T = {T}, not {steps}")
    if steps == 1:
        return [T - 1]
    return [(2 * (T - 1) * k + steps - 1) // (2 * (steps - 1)) for k in range(steps - 1, -1, -1)]


@dataclass
class DiffusionStep:
    """One reverse step x_t -> x_{t_prev} for a batch of B images."""
    index: int  # 0 for the first step
    t: int  # timestep of x_t, in 0..T-1
    t_prev: int  # timestep of x_prev; -1 after the last step (clean data)
    x_t: torch.Tensor  # (B, C, H, W) the input of this step
    eps_pred: torch.Tensor  # (B, C, H, W) the denoiser's output
    x0_pred: torch.Tensor  # (B, C, H, W) predicted x_0, clamped to [-1, 1] when clip_x0
    x_prev: torch.Tensor  # (B, C, H, W) the output of this step
    noise_level: float  # sqrt(1 - abar_t): the std of the noise in x_t
    sigma: float  # std of the fresh noise added in this step (0 for DDIM eta = 0 and for the last step)


def timestep_pairs(timesteps: list[int], T: int) -> list[tuple[int, int]]:
    """[(t_i, t_{i+1})] with -1 after the last; checks the list is strictly decreasing within 0..T-1."""
    timesteps = [int(t) for t in timesteps]
    if not timesteps or timesteps[0] >= T or timesteps[-1] < 0 or any(a <= b for a, b in zip(timesteps, timesteps[1:])):
        raise ValueError(f"timesteps must be a non-empty, strictly decreasing list within 0..{T - 1}")
    return list(zip(timesteps, timesteps[1:] + [-1]))


def fresh_noise(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """torch.randn like x, drawn on the generator's device (the same draw diffusers' randn_tensor makes)."""
    return torch.randn(x.shape, generator=generator, device=generator.device, dtype=x.dtype).to(x.device)


def estimate_x0(schedule: NoiseSchedule, x: torch.Tensor, t: int, eps: torch.Tensor, clip_x0: bool) -> torch.Tensor:
    """x0_hat from x_t and the predicted noise (clamped to [-1, 1] when clip_x0)."""
    t_batch = torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)  # (B,)
    x0 = predict_x0(schedule, x, t_batch, eps)
    return x0.clamp(-1, 1) if clip_x0 else x0


def denoise_step(denoise: Denoiser, schedule: NoiseSchedule, x: torch.Tensor, t: int, clip_x0: bool):
    """eps = denoise(x_t, t) and x0_hat from it."""
    t_batch = torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)  # (B,)
    eps = denoise(x, t_batch)
    return eps, estimate_x0(schedule, x, t, eps, clip_x0)


def ddpm_update(schedule: NoiseSchedule, x: torch.Tensor, x0: torch.Tensor, t: int, t_prev: int,
                generator: torch.Generator) -> tuple[torch.Tensor, float]:
    """One ancestral step (x_prev, sigma): the mean of q(x_prev | x_t, x0_hat) plus fresh noise of std sigma."""
    abar_t, abar_prev = schedule.abar(t), schedule.abar(t_prev)
    beta = 1 - abar_t / abar_prev
    x0_coef = math.sqrt(abar_prev) * beta / (1 - abar_t)
    xt_coef = math.sqrt(1 - beta) * (1 - abar_prev) / (1 - abar_t)
    mean = x0_coef * x0 + xt_coef * x
    sigma = math.sqrt((1 - abar_prev) / (1 - abar_t) * beta)  # 0 at the last step (abar_prev = 1)
    return (mean + sigma * fresh_noise(x, generator) if t_prev >= 0 else mean), sigma


def ddpm_steps(denoise: Denoiser, x_T: torch.Tensor, schedule: NoiseSchedule, timesteps: list[int],
               generator: torch.Generator, clip_x0: bool = True) -> Iterator[DiffusionStep]:
    """Ancestral sampling from q(x_prev | x_t, x0_hat) (Ho et al. 2020, eqs. 6-7) with respaced betas
    beta' = 1 - abar_t / abar_prev and the posterior ("fixed small") variance, as diffusers' DDPMScheduler."""
    x = x_T
    for index, (t, t_prev) in enumerate(timestep_pairs(timesteps, schedule.T)):
        eps, x0 = denoise_step(denoise, schedule, x, t, clip_x0)
        x_prev, sigma = ddpm_update(schedule, x, x0, t, t_prev, generator)
        yield DiffusionStep(index, t, t_prev, x, eps, x0, x_prev, math.sqrt(1 - schedule.abar(t)), sigma)
        x = x_prev


def ddim_update(schedule: NoiseSchedule, x: torch.Tensor, eps: torch.Tensor, x0: torch.Tensor, t: int, t_prev: int,
                eta: float, generator: torch.Generator | None, clip_x0: bool) -> tuple[torch.Tensor, float]:
    """One DDIM step (x_prev, sigma); with clip_x0 the noise is re-derived from the clamped x0_hat."""
    abar_t, abar_prev = schedule.abar(t), schedule.abar(t_prev)
    eps_used = (x - math.sqrt(abar_t) * x0) / math.sqrt(1 - abar_t) if clip_x0 else eps
    sigma = eta * math.sqrt((1 - abar_prev) / (1 - abar_t) * (1 - abar_t / abar_prev))
    x_prev = math.sqrt(abar_prev) * x0 + math.sqrt(1 - abar_prev - sigma**2) * eps_used
    if sigma > 0:
        x_prev = x_prev + sigma * fresh_noise(x, generator)
    return x_prev, sigma


def ddim_steps(denoise: Denoiser, x_T: torch.Tensor, schedule: NoiseSchedule, timesteps: list[int], eta: float = 0.0,
               generator: torch.Generator | None = None, clip_x0: bool = True) -> Iterator[DiffusionStep]:
    """x_prev = sqrt(abar_prev) x0_hat + sqrt(1 - abar_prev - sigma^2) eps + sigma z, with
    sigma = eta sqrt((1 - abar_prev) / (1 - abar_t)) sqrt(1 - abar_t / abar_prev) (Song et al. 2020, eqs. 12, 16).

    With clip_x0, eps is re-derived from the clamped x0_hat so the pair still gives back x_t (GLIDE, guided-diffusion;
    diffusers' DDIMScheduler.step with use_clipped_model_output=True)."""
    if not 0 <= eta <= 1:
        raise ValueError(f"eta must be in [0, 1], not {eta}")
    if eta > 0 and generator is None:
        raise ValueError("eta > 0 adds noise: pass a torch.Generator")
    x = x_T
    for index, (t, t_prev) in enumerate(timestep_pairs(timesteps, schedule.T)):
        eps, x0 = denoise_step(denoise, schedule, x, t, clip_x0)
        x_prev, sigma = ddim_update(schedule, x, eps, x0, t, t_prev, eta, generator, clip_x0)
        yield DiffusionStep(index, t, t_prev, x, eps, x0, x_prev, math.sqrt(1 - schedule.abar(t)), sigma)
        x = x_prev


def sample_ddpm(denoise: Denoiser, x_T: torch.Tensor, schedule: NoiseSchedule, timesteps: list[int],
                generator: torch.Generator, clip_x0: bool = True) -> torch.Tensor:
    """Run ddpm_steps to the end; return x_0 (B, C, H, W)."""
    x = x_T
    for step in ddpm_steps(denoise, x_T, schedule, timesteps, generator, clip_x0):
        x = step.x_prev
    return x


def sample_ddim(denoise: Denoiser, x_T: torch.Tensor, schedule: NoiseSchedule, timesteps: list[int], eta: float = 0.0,
                generator: torch.Generator | None = None, clip_x0: bool = True) -> torch.Tensor:
    """Run ddim_steps to the end; return x_0 (B, C, H, W)."""
    x = x_T
    for step in ddim_steps(denoise, x_T, schedule, timesteps, eta, generator, clip_x0):
        x = step.x_prev
    return x
