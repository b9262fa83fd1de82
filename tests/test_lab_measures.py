"""The 2-D lab's shared measures against hand-computed cases."""
import math

import numpy as np
import pytest
import torch

from genmodels.gan.toy_data import DATASETS, sliced_wasserstein
from genmodels.lab.measures import loss_stability, measure_samples


def test_modes_covered_counts_the_modes_holding_one_percent():
    ring = DATASETS["ring"]
    centers = torch.tensor(ring.centers)  # (8, 2)
    # 120 points on mode 0, 60 on mode 3, 1 on mode 5 (under 1% of 200), 19 far from every mode
    points = torch.cat([centers[0].expand(120, 2), centers[3].expand(60, 2), centers[5].expand(1, 2),
                        torch.zeros(19, 2)])
    measures = measure_samples(points, ring, points)
    assert measures.modes_covered == 2 and measures.n_modes == 8
    assert measures.in_modes == pytest.approx(0.905)
    assert measures.mode_shares[[0, 3, 5]] == pytest.approx([0.6, 0.3, 0.005])


def test_a_point_just_outside_three_sigma_belongs_to_no_mode():
    ring = DATASETS["ring"]
    center = torch.tensor(ring.centers[0])
    inside, outside = center + torch.tensor([2.99 * ring.sigma, 0]), center + torch.tensor([3.01 * ring.sigma, 0])
    assert measure_samples(inside[None], ring, inside[None]).modes_covered == 1
    assert measure_samples(outside[None], ring, outside[None]).modes_covered == 0


def test_sliced_wasserstein_of_a_shift_is_the_mean_projected_shift():
    points = torch.randn(256, 2, generator=torch.Generator().manual_seed(0))
    shift = 0.7
    angles = np.arange(64) * np.pi / 64
    expected = shift * np.abs(np.cos(angles)).mean()  # every projection moves by shift * |cos(angle)|
    assert sliced_wasserstein(points + torch.tensor([shift, 0.0]), points) == pytest.approx(expected, rel=1e-6)
    assert sliced_wasserstein(points, points) == 0


def test_moons_have_no_modes_and_lost_points_no_distance():
    moons = DATASETS["moons"]
    real = moons.sample(64, torch.Generator().manual_seed(1))
    measures = measure_samples(real, moons, real)
    assert measures.modes_covered is None and measures.distance == 0
    lost = real.clone()
    lost[0, 0] = math.nan
    assert measure_samples(lost, DATASETS["ring"], real).distance is None


def test_loss_stability_is_the_spread_of_window_means():
    steps = np.arange(1, 501, dtype=float)
    flat = np.ones(500)
    assert loss_stability(steps, flat) == 0
    # windows of 50 alternating means 1 and 3: std 1, mean 2
    alternating = np.repeat([1.0, 3.0] * 5, 50)
    assert loss_stability(steps, alternating) == pytest.approx(0.5)
    assert loss_stability(steps[:60], flat[:60]) is None  # one complete window only
    # noise inside a window averages out: only the window means count
    noisy = 2 + np.tile([-1.0, 1.0], 250)
    assert loss_stability(steps, noisy) == pytest.approx(0.0, abs=1e-12)
