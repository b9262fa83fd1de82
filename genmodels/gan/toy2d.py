"""Live 2-D GAN in the spirit of GAN Lab (Kahng et al. 2019): toy mixtures, MLP G and D, one seeded session.

A step is `d_steps` discriminator updates then one generator update (Goodfellow et al. 2014, Algorithm 1); the step
counter counts generator updates, and a lone discriminator update (Step D) adds to `d_updates` only.
D maximizes log D(x) + log(1 - D(G(z))); G minimizes log(1 - D(G(z))) ("minimax") or -log D(G(z))
("non-saturating"). Everything runs on the CPU: the nets are too small to gain from a GPU.
"""
import math
import reprlib
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from genmodels.gan.latent import latent_plane, quantile_grid
from genmodels.gan.losses import GENERATOR_LOSSES, discriminator_loss, generator_loss
from genmodels.gan.toy_data import DATASETS, ToyDistribution
from genmodels.lab.measures import distance_floor, measure_samples
from genmodels.lab.parts import History, changes_run, is_number, is_whole, jsonable, mlp, range_errors
from genmodels.runtime import make_generator

LOSSES = GENERATOR_LOSSES
LR_MAX = 0.1  # learning rates lie in (0, LR_MAX]
D_STEPS_RANGE = (1, 10)
BATCH_RANGE = (16, 1024)
LATENT_RANGE = (1, 16)
HIDDEN_RANGE = (8, 256)
DEPTH_RANGE = (1, 4)  # hidden layers in G and in D
SEED_RANGE = (0, 2**31 - 1)
LIVE_SETTINGS = ("loss", "lr_g", "lr_d", "d_steps")  # these change mid-run; any other change starts a new run
MAX_TOTAL_STEPS = 20_000  # a session refuses to train past this many G updates; reset() starts over
N_POINTS = 512  # fixed real points and generated points from a fixed latent batch, in every snapshot
GRID_SIZE = 48  # D's P(real) is evaluated on a GRID_SIZE x GRID_SIZE grid over the extent
HISTORY_KEYS = ("step", "loss_d", "loss_g", "d_real", "d_fake")
MESH_SIZE = 20  # G's manifold is drawn from a MESH_SIZE x MESH_SIZE latent grid: one G pass per snapshot
TRAIL = 4  # each snapshot carries the generated points' positions at the last TRAIL redraws before it


@dataclass
class ToySettings:
    """Everything that defines a run; the same settings (seed included) give the same run."""
    dataset: str = "ring"
    loss: str = "non-saturating"
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    d_steps: int = 1
    batch_size: int = 256
    latent_dim: int = 2
    hidden: int = 128
    depth: int = 3
    seed: int = 0

    def validate(self) -> "ToySettings":
        """Raise ValueError naming every out-of-range setting, else return a copy with whole numbers as ints."""
        errors = []
        if self.dataset not in DATASETS:
            errors.append(f"dataset must be one of {', '.join(DATASETS)} (got {reprlib.repr(self.dataset)})")
        if self.loss not in LOSSES:
            errors.append(f"loss must be one of {', '.join(LOSSES)} (got {reprlib.repr(self.loss)})")
        for name in ("lr_g", "lr_d"):
            value = getattr(self, name)
            if not is_number(value) or not 0 < value <= LR_MAX:
                errors.append(f"{name} must be in (0, {LR_MAX}] (got {reprlib.repr(value)})")
        whole = {"d_steps": D_STEPS_RANGE, "batch_size": BATCH_RANGE, "latent_dim": LATENT_RANGE,
                 "hidden": HIDDEN_RANGE, "depth": DEPTH_RANGE, "seed": SEED_RANGE}
        errors += range_errors(self, whole)
        if errors:
            raise ValueError("; ".join(errors))
        return replace(self, lr_g=float(self.lr_g), lr_d=float(self.lr_d),
                       **{name: int(getattr(self, name)) for name in whole})


PRESETS = {
    "Ring of 8: converges": ToySettings(dataset="ring"),
    "Grid of 25: converges": ToySettings(dataset="grid", hidden=64, latent_dim=8),
    "Two moons: converges": ToySettings(dataset="moons"),
    "Ring of 8: mode collapse": ToySettings(dataset="ring", lr_g=2e-3, lr_d=2e-4),  # G learns 10x faster than D
}


@dataclass
class Manifold:
    """G over a grid of latents (latent.latent_plane): the plane of the first two noise coordinates at Gaussian
    quantiles, the other coordinates 0, so with more than two it is a slice through G's input."""
    latent_dim: int
    is_slice: bool  # latent_dim > 2: a plane through the noise space, not all of it
    axis: np.ndarray  # (size,) the latent value of each grid line
    points: np.ndarray  # (rows, size, 2) G(z[i, j]); rows = size, or 1 for a 1-D latent (a curve)


@dataclass
class Snapshot:
    """What the UI draws after some steps; every array is numpy, to_dict() turns it into plain JSON."""
    step: int  # generator updates
    d_updates: int  # discriminator updates, those of Step D included
    dataset: str
    extent: tuple[float, float, float, float]  # (xmin, xmax, ymin, ymax)
    real: np.ndarray  # (N_POINTS, 2) the same real points in every snapshot of a session
    fake: np.ndarray  # (N_POINTS, 2) G(z) for a fixed latent batch
    trail: np.ndarray  # (T, N_POINTS, 2) `fake` at up to TRAIL earlier redraws of this run, oldest first; T may be 0
    push: np.ndarray  # (N_POINTS, 2) -d loss_G / d x at each fake point: where G's loss moves it
    manifold: Manifold  # G over a MESH_SIZE x MESH_SIZE latent grid
    grid_x: np.ndarray  # (GRID_SIZE,)
    grid_y: np.ndarray  # (GRID_SIZE,)
    d_grid: np.ndarray  # (GRID_SIZE, GRID_SIZE) D's P(real) at (grid_x[j], grid_y[i]) in row i, column j
    history: dict[str, np.ndarray]  # HISTORY_KEYS -> (rows,)
    last: dict[str, float]  # the latest loss_d, d_real (D's update), loss_g and d_fake (empty at step 0)
    mode_shares: np.ndarray | None  # (K,) share of fake points within 3 sigma of each mode; None for moons
    modes_covered: int | None  # modes holding >= COVER_FRACTION of the fake points; None for moons
    n_modes: int | None
    in_modes: float | None  # share of fake points within 3 sigma of some mode ("high quality")
    distance: float | None  # sliced Wasserstein-1 between fake and real points; None once a point is not finite
    distance_floor: float  # the mean distance of fresh real samples to `real`: what a perfect G would score
    diverged: bool
    message: str

    def to_dict(self) -> dict:
        """Plain lists, floats, ints, strings and None: ready for json.dumps(allow_nan=False)."""
        return jsonable(self)


class ToyGAN:
    """One training session: its own nets, optimizers, random generator and bounded history; reset() restarts it."""

    nfe_per_sample = 1  # one pass of G draws a point

    def __init__(self, settings: ToySettings, data: ToyDistribution | None = None):
        """data replaces the named data set of settings.dataset (the 2-D lab's clicked points)."""
        self.settings, self.custom_data = settings.validate(), data
        self.reset()

    @property
    def data(self) -> ToyDistribution:
        return self.custom_data or DATASETS[self.settings.dataset]

    def reset(self) -> None:
        """Rebuild everything from the settings and seed: the run starts again at step 0."""
        s, dist = self.settings, self.data
        init = make_generator(s.seed)  # weights, the training seed, then the fixed points, in this order
        hidden = [s.hidden] * s.depth
        self.G = mlp([s.latent_dim, *hidden, 2], nn.ReLU, init)  # z (B, latent_dim) -> x (B, 2)
        self.D = nn.Sequential(mlp([2, *hidden, 1], lambda: nn.LeakyReLU(0.2), init),  # x (B, 2) -> logit (B,)
                               nn.Flatten(0))  # LeakyReLU(0.2) in D as in DCGAN (Radford et al. 2016)
        self.rng = make_generator(int(torch.randint(2**62, (), generator=init)))  # all training draws
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=s.lr_g, betas=(0.5, 0.999), fused=True)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=s.lr_d, betas=(0.5, 0.999), fused=True)
        self.real = dist.sample(N_POINTS, init)  # (N_POINTS, 2)
        self.z = torch.randn(N_POINTS, s.latent_dim, generator=init)  # (N_POINTS, latent_dim)
        self.distance_floor = distance_floor(dist, self.real, init)  # what a perfect generator would score
        xmin, xmax, ymin, ymax = dist.extent
        self.grid_x, self.grid_y = torch.linspace(xmin, xmax, GRID_SIZE), torch.linspace(ymin, ymax, GRID_SIZE)
        gy, gx = torch.meshgrid(self.grid_y, self.grid_x, indexing="ij")
        self.grid = torch.stack([gx.flatten(), gy.flatten()], 1)  # (GRID_SIZE**2, 2), row-major in y
        self.steps, self.d_updates, self.diverged, self.message = 0, 0, False, ""
        self.history, self.last = History(HISTORY_KEYS), {}
        self.trail = []  # the fake points (N_POINTS, 2) of up to TRAIL redraws before the latest one
        self.latest_fake, self.trail_step = None, None  # the latest redraw's fake points and its step

    def adopt(self, settings: ToySettings) -> bool:
        """Take new settings: the loss, learning rates and D steps apply from the next step on, a change to
        anything else (data, seed, sizes) starts a new run. Returns whether the run restarted."""
        settings = settings.validate()
        restart = changes_run(self.settings, settings, LIVE_SETTINGS)
        self.settings = settings
        if restart:
            self.reset()
            return True
        for optimizer, lr in ((self.opt_g, settings.lr_g), (self.opt_d, settings.lr_d)):
            for group in optimizer.param_groups:
                group["lr"] = lr
        return False

    def _noise(self) -> torch.Tensor:
        return torch.randn(self.settings.batch_size, self.settings.latent_dim, generator=self.rng)

    def _check_open(self) -> None:
        """Raise with the reason when the run cannot train: it diverged, or it reached MAX_TOTAL_STEPS."""
        if self.diverged:
            raise RuntimeError(self.message)
        if self.steps >= MAX_TOTAL_STEPS:
            raise RuntimeError(f"this session reached the limit of {MAX_TOTAL_STEPS} steps: reset to start again")

    def _update_d(self) -> None:
        """One discriminator update on a fresh real batch and a fresh generated batch."""
        s = self.settings
        x = self.data.sample(s.batch_size, self.rng)  # (B, 2)
        with torch.no_grad():
            fake = self.G(self._noise())  # (B, 2)
        real_logit, fake_logit = self.D(x), self.D(fake)  # (B,), (B,)
        loss_d = discriminator_loss(real_logit, fake_logit)
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        self.d_updates += 1
        self.last |= {"loss_d": loss_d.item(), "d_real": torch.sigmoid(real_logit).mean().item(),
                      "d_fake": torch.sigmoid(fake_logit).mean().item()}

    def _update_g(self) -> None:
        """One generator update; it counts as a step and adds a history row with D's latest loss and D(x)."""
        self.D.requires_grad_(False)  # G's loss flows through D, but D's own gradients would be thrown away
        fake_logit = self.D(self.G(self._noise()))  # (B,)
        self.D.requires_grad_(True)
        loss_g = generator_loss(fake_logit, self.settings.loss)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        self.steps += 1
        self.last |= {"loss_g": loss_g.item(), "d_fake": torch.sigmoid(fake_logit).mean().item()}
        self.history.add((self.steps, *(self.last.get(key, math.nan) for key in HISTORY_KEYS[1:])))

    def _check_finite(self) -> dict[str, float]:
        """Mark the run diverged when a loss is no longer finite (a non-finite weight makes the next loss so), naming
        the weights that went bad; returns the latest values."""
        bad = [k for k, v in self.last.items() if not math.isfinite(v)]
        if bad:
            bad += [f"{name} weights" for name, net in (("G", self.G), ("D", self.D))
                    if not all(torch.isfinite(p).all() for p in net.parameters())]
        if bad:
            self.diverged = True
            self.message = (f"training diverged at step {self.steps}: {', '.join(bad)} became NaN or infinite "
                            "(try smaller learning rates); reset to start again")
        return dict(self.last)

    def step(self) -> dict[str, float]:
        """d_steps D updates, then one G update; returns loss_d, D(x) (the last D update), loss_g and D(G(z)) (the
        G update)."""
        self._check_open()
        for _ in range(self.settings.d_steps):
            self._update_d()
        self._update_g()
        return self._check_finite()

    def step_d(self) -> dict[str, float]:
        """One discriminator update alone (GAN Lab's Step D): the step counter stays, d_updates grows."""
        self._check_open()
        self._update_d()
        return self._check_finite()

    def step_g(self) -> dict[str, float]:
        """One generator update alone (GAN Lab's Step G): one step, with no discriminator update before it."""
        self._check_open()
        self._update_g()
        return self._check_finite()

    def train(self, n_steps: int, every: int = 50):
        """Generator: run n_steps steps (fewer at divergence or at MAX_TOTAL_STEPS), yielding a snapshot
        every `every` steps and one at the end."""
        if not is_whole(n_steps, 1, MAX_TOTAL_STEPS):
            raise ValueError(f"n_steps must be a whole number in [1, {MAX_TOTAL_STEPS}] (got {n_steps!r})")
        if not is_whole(every, 1, MAX_TOTAL_STEPS):
            raise ValueError(f"every must be a whole number in [1, {MAX_TOTAL_STEPS}] (got {every!r})")
        if self.diverged or self.steps >= MAX_TOTAL_STEPS:
            self.step()  # raises with the reason
        return self._run(min(int(n_steps), MAX_TOTAL_STEPS - self.steps), int(every))

    def _run(self, n_steps: int, every: int):
        for done in range(1, n_steps + 1):
            self.step()
            if self.diverged:
                break
            if done % every == 0 and done < n_steps:
                yield self.snapshot()
        if not self.diverged and self.steps >= MAX_TOTAL_STEPS:
            self.message = f"stopped at the limit of {MAX_TOTAL_STEPS} steps per session: reset to start again"
        yield self.snapshot()

    def manifold(self, size: int = MESH_SIZE) -> Manifold:
        """G on a size x size grid of latents (latent.latent_plane), in one pass."""
        dim = self.settings.latent_dim
        axis = quantile_grid(size)  # (size,)
        z = latent_plane(axis, dim)  # (rows, size, dim)
        with torch.no_grad():
            points = self.G(z.flatten(0, 1)).view(*z.shape[:2], 2)  # (rows, size, 2)
        return Manifold(dim, dim > 2, axis.numpy(), points.numpy())

    def snapshot(self) -> Snapshot:
        """Real and generated points, D's P(real) on the grid, where G's loss pushes each fake point, metrics."""
        dist = self.data
        fake = self.G(self.z).detach().requires_grad_()  # (N_POINTS, 2)
        loss_g = generator_loss(self.D(fake), self.settings.loss) * N_POINTS  # the sum: per-point gradients
        push = -torch.autograd.grad(loss_g, fake)[0]  # (N_POINTS, 2)
        fake = fake.detach()
        if self.trail_step is not None and self.trail_step != self.steps:  # G moved: the last redraw joins the trail
            self.trail = (self.trail + [self.latest_fake])[-TRAIL:]
        self.trail_step, self.latest_fake = self.steps, fake.numpy()
        with torch.no_grad():
            d_grid = torch.sigmoid(self.D(self.grid)).view(GRID_SIZE, GRID_SIZE)  # (GRID_SIZE, GRID_SIZE)
        measures = measure_samples(fake, dist, self.real)
        return Snapshot(
            step=self.steps, d_updates=self.d_updates, dataset=self.settings.dataset, extent=dist.extent,
            real=self.real.numpy().copy(), fake=fake.numpy(), trail=np.array(self.trail).reshape(-1, N_POINTS, 2),
            push=push.numpy(), manifold=self.manifold(),
            grid_x=self.grid_x.numpy().copy(), grid_y=self.grid_y.numpy().copy(), d_grid=d_grid.numpy(),
            history=self.history.as_arrays(), last=dict(self.last),
            mode_shares=measures.mode_shares, modes_covered=measures.modes_covered, n_modes=measures.n_modes,
            in_modes=measures.in_modes, distance=measures.distance, distance_floor=self.distance_floor,
            diverged=self.diverged, message=self.message)
