"""The 2-D lab's diffusion model: a small MLP noise predictor eps_theta(x_t, t) trained live on toy points (DDPM,
Ho et al. 2020) with the image model's cosine schedule, sampled by DDPM or DDIM from a fixed batch of noise.

The network works on the data divided by DATA_SCALE (the toy data spans [-3, 3]; the forward process assumes data of
about unit variance); every point a snapshot holds is back in data coordinates. Samples and the field come from a
moving average of the weights (EMA_DECAY).
"""
import copy
import math
import reprlib
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from genmodels.diffusion.samplers import Denoiser, ddim_steps, ddpm_steps, respaced_timesteps
from genmodels.diffusion.schedule import NoiseSchedule, cosine_schedule, q_sample
from genmodels.diffusion.train import ema_update
from genmodels.gan.toy_data import ToyDistribution
from genmodels.lab.parts import History, changes_run, is_number, jsonable, mlp, range_errors
from genmodels.runtime import make_generator

SAMPLERS = ("ddim", "ddpm")
T = 1000  # the schedule's length, as the image model's
DATA_SCALE = 1.5  # the ring and the grid have a std of about 1.4 per coordinate: divided by this, about 1
TIME_FREQUENCIES = (1, 2, 4, 8, 16, 32)  # sin and cos of pi f t / T: a bare t is too smooth for a small MLP to split
LR_MAX = 0.1
BATCH_RANGE = (16, 1024)
HIDDEN_RANGE = (8, 256)
DEPTH_RANGE = (1, 4)  # hidden layers of the noise predictor
SEED_RANGE = (0, 2**31 - 1)
SAMPLE_STEPS_RANGE = (1, T)
FIELD_T_RANGE = (1, T - 1)
LIVE_SETTINGS = ("sampler", "sample_steps", "field_t")  # these apply at once; any other change starts a new run
MAX_TOTAL_STEPS = 20_000  # a session refuses to train past this many steps; reset() starts over
N_POINTS = 512  # fixed real points, and samples from a fixed batch of noise, in every snapshot
N_PATHS = 24  # the first N_PATHS samples' whole paths from noise to point
FIELD_SIZE = 16  # the field is drawn on a FIELD_SIZE x FIELD_SIZE grid over the extent
EMA_DECAY = 0.99  # samples and the field use the weights' moving average over about the last 100 steps
HISTORY_KEYS = ("step", "loss")


@dataclass
class DiffusionSettings:
    """Everything that defines a run (hidden, depth, lr, batch_size, seed) and how it is drawn (the live three)."""
    hidden: int = 128
    depth: int = 3
    lr: float = 3e-3
    batch_size: int = 256
    seed: int = 0
    sampler: str = "ddim"
    sample_steps: int = 50
    field_t: int = 200

    def validate(self) -> "DiffusionSettings":
        """Raise ValueError naming every out-of-range setting, else return a copy with whole numbers as ints."""
        errors = []
        if self.sampler not in SAMPLERS:
            errors.append(f"sampler must be one of {', '.join(SAMPLERS)} (got {reprlib.repr(self.sampler)})")
        if not is_number(self.lr) or not 0 < self.lr <= LR_MAX:
            errors.append(f"lr must be in (0, {LR_MAX}] (got {reprlib.repr(self.lr)})")
        whole = {"hidden": HIDDEN_RANGE, "depth": DEPTH_RANGE, "batch_size": BATCH_RANGE, "seed": SEED_RANGE,
                 "sample_steps": SAMPLE_STEPS_RANGE, "field_t": FIELD_T_RANGE}
        errors += range_errors(self, whole)
        if errors:
            raise ValueError("; ".join(errors))
        return replace(self, lr=float(self.lr), **{name: int(getattr(self, name)) for name in whole})


class NoisePredictor(nn.Module):
    """eps_theta(x_t, t) = sigma_t x_t + alpha_t F(x_t, t), F an MLP over x_t (B, 2) and sinusoidal features of t.

    alpha_t = sqrt(abar_t), sigma_t = sqrt(1 - abar_t). Near t = T, x_t is nearly all noise and eps nearly x_t: the skip
    gives that for free (a preconditioning as in Karras et al. 2022; F is then the v of Salimans & Ho 2022), and
    x0_hat = alpha_t x_t - sigma_t F never divides by the tiny alpha_t of the cosine schedule's last step."""

    def __init__(self, schedule: NoiseSchedule, hidden: int, depth: int, generator: torch.Generator):
        super().__init__()
        self.register_buffer("alpha", schedule.alphas_cumprod.sqrt().float())  # (T,)
        self.register_buffer("sigma", (1 - schedule.alphas_cumprod).sqrt().float())  # (T,)
        self.register_buffer("frequencies", math.pi * torch.tensor(TIME_FREQUENCIES, dtype=torch.float32) / T)
        self.net = mlp([2 + 2 * len(TIME_FREQUENCIES), *[hidden] * depth, 2], nn.SiLU, generator)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        angles = t.float()[:, None] * self.frequencies  # (B, F)
        f = self.net(torch.cat([x, angles.sin(), angles.cos()], 1))  # (B, 2)
        return self.sigma[t, None] * x + self.alpha[t, None] * f  # (B, 2)


def sample_points(denoise: Denoiser, noise: torch.Tensor, schedule: NoiseSchedule, sampler: str, steps: int,
                  generator: torch.Generator, n_paths: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Run DDPM or DDIM (eta = 0) over `steps` respaced timesteps from noise (N, 2); returns the points (N, 2) and the
    first n_paths samples' x_t at every step, noise first and the points last (n_paths, steps + 1, 2)."""
    timesteps = respaced_timesteps(schedule.T, steps)
    if sampler == "ddpm":
        walk = ddpm_steps(denoise, noise, schedule, timesteps, generator, clip_x0=False)
    else:
        walk = ddim_steps(denoise, noise, schedule, timesteps, clip_x0=False)
    x, path = noise, [noise[:n_paths]]
    for step in walk:
        x = step.x_prev
        path.append(x[:n_paths])
    return x, torch.stack(path, 1)


@dataclass
class NoiseField:
    """The network's push at noise level t on a grid: -eps_theta(x, t), pointing from x toward the x_0 it predicts.
    It is sigma_t times the learned score grad log p_t(x), since eps_theta ~ -sigma_t grad log p_t (Song et al. 2021)."""
    t: int
    signal: float  # sqrt(abar_t): x_t = signal x_0 + noise
    noise_level: float  # the std of that noise in data coordinates, DATA_SCALE sqrt(1 - abar_t)
    x: np.ndarray  # (FIELD_SIZE**2, 2) grid points in data coordinates, row-major in y
    push: np.ndarray  # (FIELD_SIZE**2, 2) -eps_theta at each grid point, in units of the noise's std


@dataclass
class DiffusionSnapshot:
    """What the UI draws after some steps; every array is numpy, to_dict() turns it into plain JSON."""
    step: int
    extent: tuple[float, float, float, float]  # (xmin, xmax, ymin, ymax)
    sampler: str
    sample_steps: int
    real: np.ndarray  # (N_POINTS, 2) the same real points in every snapshot of a session
    samples: np.ndarray  # (N_POINTS, 2) drawn from the same noise in every snapshot
    paths: np.ndarray  # (N_PATHS, sample_steps + 1, 2) x_t of the first samples from noise to point
    field: NoiseField  # the push at t = field_t
    noised: np.ndarray  # (N_POINTS, 2) `real` pushed forward to t = field_t with fixed noise: q(x_t | x_0)
    history: dict[str, np.ndarray]  # HISTORY_KEYS -> (rows,)
    last: dict[str, float]  # the latest loss (empty at step 0)
    diverged: bool
    message: str

    def to_dict(self) -> dict:
        """Plain lists, floats, ints, strings and None: ready for json.dumps(allow_nan=False)."""
        return jsonable(self)


class ToyDiffusion:
    """One training session: its own network, optimizer, random generator and bounded history; reset() restarts it."""

    def __init__(self, settings: DiffusionSettings, data: ToyDistribution):
        self.settings, self.data = settings.validate(), data
        self.schedule = cosine_schedule(T)
        self.reset()

    def reset(self) -> None:
        """Rebuild everything from the settings and seed: the run starts again at step 0."""
        s = self.settings
        init = make_generator(s.seed)  # weights, the training seed, then the fixed draws, in this order
        self.net = NoisePredictor(self.schedule, s.hidden, s.depth, init)
        self.rng = make_generator(int(torch.randint(2**62, (), generator=init)))  # all training draws
        self.opt = torch.optim.Adam(self.net.parameters(), lr=s.lr, fused=True)
        self.ema = copy.deepcopy(self.net).requires_grad_(False)  # steadier samples than the noisy latest weights
        self.real = self.data.sample(N_POINTS, init)  # (N_POINTS, 2)
        self.noise = torch.randn(N_POINTS, 2, generator=init)  # (N_POINTS, 2) x_T of every snapshot's samples
        self.forward_noise = torch.randn(N_POINTS, 2, generator=init)  # (N_POINTS, 2) eps of `noised`
        self.sampling_seed = int(torch.randint(2**62, (), generator=init))  # DDPM's fresh noise, the same each time
        xmin, xmax, ymin, ymax = self.data.extent
        gy, gx = torch.meshgrid(torch.linspace(ymin, ymax, FIELD_SIZE), torch.linspace(xmin, xmax, FIELD_SIZE),
                                indexing="ij")
        self.grid = torch.stack([gx.flatten(), gy.flatten()], 1)  # (FIELD_SIZE**2, 2), row-major in y
        self.steps, self.diverged, self.message = 0, False, ""
        self.history, self.last = History(HISTORY_KEYS), {}

    def adopt(self, settings: DiffusionSettings) -> bool:
        """Take new settings: the sampler, its steps and the field's t apply at once, a change to anything else starts
        a new run. Returns whether the run restarted."""
        settings = settings.validate()
        restart = changes_run(self.settings, settings, LIVE_SETTINGS)
        self.settings = settings
        if restart:
            self.reset()
        return restart

    @property
    def nfe_per_sample(self) -> int:
        """Network evaluations to draw one sample: one per sampling step."""
        return self.settings.sample_steps

    def step(self) -> dict[str, float]:
        """One Adam step on || eps - eps_theta(sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, t) ||^2 at uniform t
        (Ho et al. 2020, Algorithm 1); returns the loss."""
        if self.diverged:
            raise RuntimeError(self.message)
        if self.steps >= MAX_TOTAL_STEPS:
            raise RuntimeError(f"this session reached the limit of {MAX_TOTAL_STEPS} steps: reset to start again")
        b = self.settings.batch_size
        x0 = self.data.sample(b, self.rng) / DATA_SCALE  # (B, 2)
        t = torch.randint(T, (b,), generator=self.rng)  # (B,)
        eps = torch.randn(b, 2, generator=self.rng)  # (B, 2)
        loss = (self.net(q_sample(self.schedule, x0, t, eps), t) - eps).square().mean()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        ema_update(self.ema, self.net, EMA_DECAY)  # without autograd: the average must not chain every step's graph
        self.steps += 1
        self.last = {"loss": loss.item()}
        self.history.add((self.steps, self.last["loss"]))
        if not math.isfinite(self.last["loss"]):  # a weight gone NaN or infinite shows in the next step's loss
            self.diverged = True
            self.message = (f"training diverged at step {self.steps}: the loss or the weights became NaN or infinite "
                            "(try a smaller learning rate); reset to start again")
        return dict(self.last)

    def samples(self, paths: bool = False):
        """N_POINTS points (N_POINTS, 2) from the fixed noise with the live sampler and steps, in data coordinates;
        with paths, also the first N_PATHS samples' x_t from noise to point (N_PATHS, sample_steps + 1, 2)."""
        s = self.settings
        with torch.inference_mode():
            points, walks = sample_points(self.ema, self.noise, self.schedule, s.sampler, s.sample_steps,
                                          make_generator(self.sampling_seed), N_PATHS if paths else 0)
        return (points * DATA_SCALE, walks * DATA_SCALE) if paths else points * DATA_SCALE

    def field(self) -> NoiseField:
        """The network's push -eps_theta(x, field_t) on the grid."""
        t = self.settings.field_t
        with torch.inference_mode():
            eps = self.ema(self.grid / DATA_SCALE, torch.full((len(self.grid),), t))  # (FIELD_SIZE**2, 2)
        abar = self.schedule.abar(t)
        return NoiseField(t, math.sqrt(abar), DATA_SCALE * math.sqrt(1 - abar), self.grid.numpy().copy(),
                          (-eps).numpy())

    def noised(self) -> torch.Tensor:
        """The fixed real points taken forward to t = field_t (N_POINTS, 2), in data coordinates."""
        t = torch.full((N_POINTS,), self.settings.field_t)
        return q_sample(self.schedule, self.real / DATA_SCALE, t, self.forward_noise) * DATA_SCALE

    def snapshot(self) -> DiffusionSnapshot:
        """Real points, samples and their paths, the field at field_t and the forward process there, the loss."""
        s = self.settings
        points, walks = self.samples(paths=True)
        return DiffusionSnapshot(
            step=self.steps, extent=self.data.extent, sampler=s.sampler, sample_steps=s.sample_steps,
            real=self.real.numpy().copy(), samples=points.numpy(), paths=walks.numpy(), field=self.field(),
            noised=self.noised().numpy(), history=self.history.as_arrays(), last=dict(self.last),
            diverged=self.diverged, message=self.message)
