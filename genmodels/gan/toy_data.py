"""Toy 2-D data for the live GAN: Gaussian mixtures on a ring and a grid, two moons, and sample metrics."""
import math
from dataclasses import dataclass

import numpy as np
import torch

COVER_SIGMAS = 3.0  # a generated point belongs to a mode within 3 sigma of its center ...
COVER_FRACTION = 0.01  # ... and a mode is covered when at least 1% of the generated points belong to it


@dataclass(frozen=True)
class ToyDistribution:
    """A toy 2-D data set: a Gaussian mixture (centers, sigma) or two moons (centers None, sigma = noise)."""
    centers: tuple[tuple[float, float], ...] | None  # (K, 2) mode centers
    sigma: float
    extent: tuple[float, float, float, float]  # (xmin, xmax, ymin, ymax) for plots and D's grid


MOONS_SCALE, MOONS_SHIFT = 1.5, (0.5, 0.25)  # sklearn's moons, centered and scaled: ((x, y) - shift) * scale
DATASETS = {
    "ring": ToyDistribution(tuple((2 * math.cos(2 * math.pi * k / 8), 2 * math.sin(2 * math.pi * k / 8))
                                  for k in range(8)), 0.05, (-3.0, 3.0, -3.0, 3.0)),
    "grid": ToyDistribution(tuple((float(i), float(j)) for i in range(-2, 3) for j in range(-2, 3)),
                            0.15, (-3.0, 3.0, -3.0, 3.0)),
    "moons": ToyDistribution(None, 0.08, (-3.0, 3.0, -3.0, 3.0)),
}


def sample_real(name: str, n: int, generator: torch.Generator) -> torch.Tensor:
    """n points (n, 2) from the named toy distribution: a uniform mixture of Gaussians, or two noisy moons."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}: choose one of {', '.join(DATASETS)}")
    dist = DATASETS[name]
    noise = dist.sigma * torch.randn(n, 2, generator=generator)  # (n, 2)
    if dist.centers is not None:
        centers = torch.tensor(dist.centers)  # (K, 2)
        return centers[torch.randint(len(centers), (n,), generator=generator)] + noise
    t = math.pi * torch.rand(n, generator=generator)  # (n,) angle along each half circle
    lower = torch.rand(n, generator=generator) < 0.5  # (n,)
    x = torch.where(lower, 1 - t.cos(), t.cos())
    y = torch.where(lower, 0.5 - t.sin(), t.sin())
    return (torch.stack([x, y], 1) - torch.tensor(MOONS_SHIFT)) * MOONS_SCALE + noise


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
