"""Noise schedules and the forward process q(x_t | x_0) of DDPM (Ho et al. 2020).

Timesteps follow diffusers: t in {0, ..., T-1} and abar[t] = prod_{s<=t} (1 - beta_s), so index 0 is the
first noising step (the paper's t = 1) and t = -1 stands for the clean data x_0 (abar = 1).
Schedules are float64 on the CPU (near t = 0, 1 - abar is ~1e-4, where float32 keeps only 3-4 digits);
each function gathers its coefficients in float64 and casts them to the dtype and device of x.
"""
import math
from dataclasses import dataclass, field

import torch


@dataclass
class NoiseSchedule:
    """betas (T,), alphas = 1 - betas and alphas_cumprod = abar (T,), float64 on the CPU."""
    betas: torch.Tensor  # (T,)
    alphas: torch.Tensor = field(init=False)  # (T,)
    alphas_cumprod: torch.Tensor = field(init=False)  # (T,)

    def __post_init__(self):
        self.betas = torch.as_tensor(self.betas, dtype=torch.float64, device="cpu")
        if self.betas.ndim != 1 or len(self.betas) == 0 or not ((self.betas > 0) & (self.betas < 1)).all():
            raise ValueError("betas must be a non-empty 1-D sequence in (0, 1)")
        self.alphas = 1 - self.betas
        self.alphas_cumprod = torch.cumprod(self.alphas, dim=0)

    @property
    def T(self) -> int:
        return len(self.betas)

    def abar(self, t: int) -> float:
        """abar_t as a float; t = -1 (before the first noising step) gives 1."""
        return 1.0 if t == -1 else float(self.alphas_cumprod[t])


def cosine_schedule(T: int = 1000, s: float = 0.008, max_beta: float = 0.999) -> NoiseSchedule:
    """abar_t = f(t) / f(0), f(t) = cos^2((t/T + s)/(1 + s) pi/2), beta <= max_beta (Nichol & Dhariwal 2021, eq. 17)."""
    u = torch.arange(T + 1, dtype=torch.float64) / T  # (T+1,)
    f = torch.cos((u + s) / (1 + s) * math.pi / 2) ** 2
    return NoiseSchedule((1 - f[1:] / f[:-1]).clamp(max=max_beta))


def linear_schedule(T: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> NoiseSchedule:
    """betas linear from beta_start to beta_end (Ho et al. 2020, sec. 4)."""
    return NoiseSchedule(torch.linspace(beta_start, beta_end, T, dtype=torch.float64))


def per_sample(values: torch.Tensor, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """values[t] for a (B,) timestep tensor, shaped (B, 1, ..., 1) to broadcast against x, in x's dtype and device."""
    v = values[torch.as_tensor(t).cpu()].to(device=x.device, dtype=x.dtype)
    return v.reshape(-1, *([1] * (x.ndim - 1)))


def q_sample(schedule: NoiseSchedule, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Closed form x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps (Ho et al. 2020, eq. 4)."""
    abar = schedule.alphas_cumprod
    return per_sample(abar.sqrt(), t, x0) * x0 + per_sample((1 - abar).sqrt(), t, x0) * noise


def forward_step(schedule: NoiseSchedule, x_prev: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """One step x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) eps (Ho et al. 2020, eq. 2); at t = 0, x_prev is x_0."""
    betas = schedule.betas
    return per_sample((1 - betas).sqrt(), t, x_prev) * x_prev + per_sample(betas.sqrt(), t, x_prev) * noise


def predict_x0(schedule: NoiseSchedule, x_t: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """x0_hat = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t) (Ho et al. 2020, eq. 15)."""
    abar = schedule.alphas_cumprod
    return (x_t - per_sample((1 - abar).sqrt(), t, x_t) * eps) / per_sample(abar.sqrt(), t, x_t)


def signal_noise_levels(schedule: NoiseSchedule) -> tuple[torch.Tensor, torch.Tensor]:
    """(sqrt(abar_t), sqrt(1 - abar_t)), each (T,): how much signal and noise x_t holds, for plotting."""
    return schedule.alphas_cumprod.sqrt(), (1 - schedule.alphas_cumprod).sqrt()
