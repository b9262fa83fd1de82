"""The measures the 2-D lab shows for every family alike: modes covered, distance to the data, loss stability."""
from dataclasses import dataclass

import numpy as np
import torch

from genmodels.gan.toy_data import COVER_FRACTION, ToyDistribution, mode_coverage, sliced_wasserstein

STABILITY_WINDOWS = 10  # loss stability looks at the means of the last 10 windows ...
STABILITY_WINDOW = 50  # ... of 50 steps each: a window's mean averages out the noise of single batches
FLOOR_DRAWS = 8  # fresh real sets averaged for the distance floor


@dataclass
class SampleMeasures:
    """How well a set of generated points matches the data."""
    mode_shares: np.ndarray | None  # (K,) share of points within 3 sigma of each mode; None for moons
    modes_covered: int | None  # modes holding >= COVER_FRACTION of the points; None for moons
    n_modes: int | None
    in_modes: float | None  # share of points within 3 sigma of some mode
    distance: float | None  # sliced Wasserstein-1 between the points and the fixed real points; None if not finite


def measure_samples(points: torch.Tensor, data: ToyDistribution, real: torch.Tensor) -> SampleMeasures:
    """Mode coverage (for mixtures) and the sliced Wasserstein distance of points (N, 2) to real (M, 2)."""
    points = points.float()
    finite = bool(torch.isfinite(points).all())
    distance = sliced_wasserstein(points, real) if finite else None
    if data.centers is None:
        return SampleMeasures(None, None, None, None, distance)
    points = torch.nan_to_num(points, nan=1e6, posinf=1e6, neginf=-1e6)  # a lost point counts toward no mode
    shares, in_modes = mode_coverage(points, torch.tensor(data.centers), data.sigma)  # (K,)
    covered = int((shares >= COVER_FRACTION).sum())
    return SampleMeasures(shares.numpy(), covered, len(data.centers), in_modes, distance)


def distance_floor(data: ToyDistribution, real: torch.Tensor, generator: torch.Generator) -> float:
    """The mean distance of fresh real sets to `real`: what a perfect model would score."""
    return float(np.mean([sliced_wasserstein(data.sample(len(real), generator), real) for _ in range(FLOOR_DRAWS)]))


def loss_stability(steps: np.ndarray, losses: np.ndarray, window: int = STABILITY_WINDOW,
                   windows: int = STABILITY_WINDOWS) -> float | None:
    """How much the loss still swings: the spread (std / |mean|) of its means over the last `windows` complete
    windows of `window` steps (steps 1-50, 51-100, ...); 0 is a flat loss. None until two windows are complete."""
    if not len(steps):
        return None
    ids = (np.asarray(steps) - 1) // window  # (rows,) the window each row falls in
    last = int(steps[-1]) // window - 1  # the newest complete window
    means = [losses[ids == i].mean() for i in range(max(last - windows + 1, 0), last + 1) if (ids == i).any()]
    means = np.array([m for m in means if np.isfinite(m)])
    if len(means) < 2:
        return None
    return float(means.std() / max(abs(means.mean()), 1e-12))
