"""Toy 2-D data for the live GAN and the 2-D lab: Gaussian mixtures on a ring and a grid, two moons, a mixture
around points a user clicked, and sample metrics."""
import math
from dataclasses import dataclass

import numpy as np
import torch

COVER_SIGMAS = 3.0  # a generated point belongs to a mode within 3 sigma of its center ...
COVER_FRACTION = 0.01  # ... and a mode is covered when at least 1% of the generated points belong to it
MAX_CUSTOM_POINTS = 32  # a user's own data: at most this many clicked points, each the center of a small Gaussian
CUSTOM_SIGMA = 0.1
CUSTOM_SPACING = COVER_SIGMAS * CUSTOM_SIGMA  # clicked points closer than this would share one mode's points
EXTENT = (-3.0, 3.0, -3.0, 3.0)
MOONS_SCALE, MOONS_SHIFT = 1.5, (0.5, 0.25)  # sklearn's moons, centered and scaled: ((x, y) - shift) * scale


@dataclass(frozen=True)
class ToyDistribution:
    """A toy 2-D data set: a Gaussian mixture (centers, sigma) or two moons (centers None, sigma = noise)."""
    centers: tuple[tuple[float, float], ...] | None  # (K, 2) mode centers
    sigma: float
    extent: tuple[float, float, float, float]  # (xmin, xmax, ymin, ymax) for plots and D's grid

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """n points (n, 2): a uniform mixture of the Gaussians, or two noisy moons."""
        noise = self.sigma * torch.randn(n, 2, generator=generator)  # (n, 2)
        if self.centers is not None:
            centers = torch.tensor(self.centers)  # (K, 2)
            return centers[torch.randint(len(centers), (n,), generator=generator)] + noise
        t = math.pi * torch.rand(n, generator=generator)  # (n,) angle along each half circle
        lower = torch.rand(n, generator=generator) < 0.5  # (n,)
        x = torch.where(lower, 1 - t.cos(), t.cos())
        y = torch.where(lower, 0.5 - t.sin(), t.sin())
        return (torch.stack([x, y], 1) - torch.tensor(MOONS_SHIFT)) * MOONS_SCALE + noise


DATASETS = {
    "ring": ToyDistribution(tuple((2 * math.cos(2 * math.pi * k / 8), 2 * math.sin(2 * math.pi * k / 8))
                                  for k in range(8)), 0.05, EXTENT),
    "grid": ToyDistribution(tuple((float(i), float(j)) for i in range(-2, 3) for j in range(-2, 3)),
                            0.15, EXTENT),
    "moons": ToyDistribution(None, 0.08, EXTENT),
}


def sample_real(name: str, n: int, generator: torch.Generator) -> torch.Tensor:
    """n points (n, 2) from the named toy distribution."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}: choose one of {', '.join(DATASETS)}")
    return DATASETS[name].sample(n, generator)


def custom_distribution(points) -> ToyDistribution:
    """A mixture of small Gaussians (CUSTOM_SIGMA) around 1..MAX_CUSTOM_POINTS points inside the plane's extent."""
    xmin, xmax, ymin, ymax = EXTENT
    try:
        centers = tuple((float(x), float(y)) for x, y in points)
    except (TypeError, ValueError):
        raise ValueError("points must be a list of [x, y] pairs of numbers") from None
    if not 1 <= len(centers) <= MAX_CUSTOM_POINTS:
        raise ValueError(f"give between 1 and {MAX_CUSTOM_POINTS} points (got {len(centers)})")
    if not all(xmin <= x <= xmax and ymin <= y <= ymax for x, y in centers):
        raise ValueError(f"every point must lie in [{xmin:g}, {xmax:g}] x [{ymin:g}, {ymax:g}]")
    if len(centers) > 1 and torch.pdist(torch.tensor(centers)).min() < CUSTOM_SPACING:
        raise ValueError(f"points must be at least {CUSTOM_SPACING:g} apart, or two modes would overlap")
    return ToyDistribution(centers, CUSTOM_SIGMA, EXTENT)


def mode_coverage(points: torch.Tensor, centers: torch.Tensor, sigma: float) -> tuple[torch.Tensor, float]:
    """Share of points within 3 sigma of each mode (K,), and of any mode (Srivastava et al. 2017, VEEGAN)."""
    dist, nearest = torch.cdist(points, centers).min(1)  # (N,), (N,)
    near = dist <= COVER_SIGMAS * sigma
    shares = torch.bincount(nearest[near], minlength=len(centers)) / len(points)  # (K,)
    return shares, float(near.float().mean())


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, n_directions: int = 64) -> float:
    """SW_1 (Rabin et al. 2011): W_1 of the 1-D projections of a, b (N, 2), averaged over evenly spaced angles."""
    angles = np.arange(n_directions) * np.pi / n_directions
    directions = np.stack([np.cos(angles), np.sin(angles)])  # (2, P)
    pa, pb = (np.sort(np.asarray(x, dtype=np.float64) @ directions, axis=0) for x in (a, b))  # (N, P)
    return float(np.abs(pa - pb).mean())
