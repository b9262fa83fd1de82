"""The 2-D lab's diffusion model: settings, training, the sampler against the exact denoiser, snapshots, figures."""
import json
import math
from dataclasses import replace

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from genmodels.diffusion.schedule import cosine_schedule
from genmodels.gan.toy_data import DATASETS, ToyDistribution
from genmodels.lab import diffusion2d
from genmodels.lab.diffusion2d import DATA_SCALE, N_PATHS, N_POINTS, DiffusionSettings, ToyDiffusion, sample_points
from genmodels.runtime import make_generator

pytestmark = pytest.mark.usefixtures("one_thread")
SMALL = DiffusionSettings(hidden=32, batch_size=64, sample_steps=10)


def exact_denoiser(modes: torch.Tensor, schedule):
    """The true E[eps | x_t] for data spread evenly over point masses `modes` (K, 2): the posterior over modes
    weights each mode's eps = (x_t - sqrt(abar) mu) / sqrt(1 - abar)."""
    def denoise(x, t):  # (B, 2), (B,)
        abar = schedule.alphas_cumprod[t].float()[:, None]  # (B, 1)
        distance = (x[:, None] - abar.sqrt()[:, None] * modes).square().sum(-1)  # (B, K)
        x0 = torch.softmax(-distance / (2 * (1 - abar)), 1) @ modes  # (B, 2) E[x_0 | x_t]
        return (x - abar.sqrt() * x0) / (1 - abar).sqrt()
    return denoise


def assert_same_snapshot(a, b):
    assert json.dumps(a.to_dict()) == json.dumps(b.to_dict())


@pytest.mark.parametrize("field, value", [
    ("hidden", 4), ("depth", 5), ("depth", 2.5), ("lr", 0.0), ("lr", float("nan")), ("batch_size", 8),
    ("seed", -1), ("sampler", "euler"), ("sample_steps", 0), ("sample_steps", 1001), ("field_t", 0),
    ("field_t", 1000), ("sample_steps", True)])
def test_validate_names_each_out_of_range_setting(field, value):
    with pytest.raises(ValueError, match=field):
        replace(DiffusionSettings(), **{field: value}).validate()
    with pytest.raises(ValueError, match=field):
        ToyDiffusion(replace(DiffusionSettings(), **{field: value}), DATASETS["ring"])


def test_validate_names_every_bad_setting_at_once_and_makes_whole_floats_ints():
    with pytest.raises(ValueError, match="lr.*hidden.*field_t"):
        DiffusionSettings(lr=1.0, hidden=0, field_t=-3).validate()
    assert DiffusionSettings(sample_steps=20.0).validate().sample_steps == 20


def test_the_loss_falls_on_a_fixed_toy_set():
    model = ToyDiffusion(DiffusionSettings(), DATASETS["ring"])
    losses = [model.step()["loss"] for _ in range(500)]
    assert sum(losses[-50:]) < 0.9 * sum(losses[:50])
    assert model.steps == 500 and list(model.history.as_arrays()["loss"]) == losses


@pytest.mark.parametrize("sampler", ["ddim", "ddpm"])
def test_the_sampler_with_the_true_noise_recovers_the_data(sampler):
    schedule = cosine_schedule(1000)
    modes = torch.tensor([[0.8, 0.5], [-1.0, 0.3], [0.1, -1.2]])  # (3, 2)
    noise = torch.randn(300, 2, generator=make_generator(0))
    points, paths = sample_points(exact_denoiser(modes, schedule), noise, schedule, sampler, 50, make_generator(1),
                                  n_paths=5)
    distance, nearest = torch.cdist(points, modes).min(1)
    assert distance.max() < 1e-3
    assert torch.bincount(nearest, minlength=3).min() > 60  # every mode, in about equal shares
    assert paths.shape == (5, 51, 2) and torch.equal(paths[:, 0], noise[:5]) and torch.equal(paths[:, -1], points[:5])


def test_the_model_samples_through_the_same_sampler_in_data_coordinates():
    """With its network swapped for the exact denoiser, the model's samples land on the data's modes."""
    data = ToyDistribution(((2.0, 0.0), (-1.0, -2.0)), 0.01, (-3.0, 3.0, -3.0, 3.0))
    model = ToyDiffusion(DiffusionSettings(sampler="ddpm", sample_steps=20), data)
    model.ema = exact_denoiser(torch.tensor(data.centers) / DATA_SCALE, model.schedule)
    points, paths = model.samples(paths=True)
    assert torch.cdist(points, torch.tensor(data.centers)).min(1).values.max() < 1e-2
    assert paths.shape == (N_PATHS, 21, 2) and torch.allclose(paths[:, -1], points[:N_PATHS])
    assert torch.equal(model.samples(), points)  # DDPM's fresh noise is the same at every redraw


def test_the_same_settings_and_seed_give_the_same_snapshots_and_other_seeds_differ():
    runs = [ToyDiffusion(replace(SMALL, sampler="ddpm", seed=seed), DATASETS["grid"]) for seed in (3, 3, 4)]
    for model in runs:
        for _ in range(30):
            model.step()
    assert_same_snapshot(runs[0].snapshot(), runs[1].snapshot())
    assert not (runs[0].snapshot().samples == runs[2].snapshot().samples).all()


def test_live_settings_apply_at_once_and_others_restart():
    model = ToyDiffusion(SMALL, DATASETS["ring"])
    for _ in range(5):
        model.step()
    live = replace(SMALL, sampler="ddpm", sample_steps=7, field_t=900)
    assert model.adopt(live) is False and model.steps == 5 and model.nfe_per_sample == 7
    snap = model.snapshot()
    assert snap.paths.shape == (N_PATHS, 8, 2) and snap.field.t == 900 and snap.sampler == "ddpm"
    assert model.adopt(replace(live, hidden=16)) is True and model.steps == 0
    assert_same_snapshot(model.snapshot(), ToyDiffusion(replace(live, hidden=16), DATASETS["ring"]).snapshot())


def test_the_snapshot_holds_every_view_in_data_coordinates_as_plain_json():
    model = ToyDiffusion(SMALL, DATASETS["ring"])
    snap = model.snapshot()
    assert snap.step == 0 and snap.last == {} and len(snap.history["step"]) == 0
    model.step()
    snap = model.snapshot()
    assert snap.real.shape == snap.samples.shape == snap.noised.shape == (N_POINTS, 2)
    assert snap.paths.shape == (N_PATHS, SMALL.sample_steps + 1, 2)
    assert snap.field.x.shape == snap.field.push.shape == (diffusion2d.FIELD_SIZE**2, 2)
    assert 1.0 < snap.real.std() < 2.0  # the ring's radius 2, not the network's scaled units
    assert math.isclose(snap.field.signal**2 + (snap.field.noise_level / DATA_SCALE)**2, 1, rel_tol=1e-6)
    noised = replace(SMALL, field_t=999)
    model.adopt(noised)
    assert abs(model.snapshot().noised.std() / DATA_SCALE - 1) < 0.1  # at t = T - 1 the noised points are all noise
    json.dumps(snap.to_dict(), allow_nan=False)


def test_training_stops_at_the_step_limit_and_after_divergence(monkeypatch):
    monkeypatch.setattr(diffusion2d, "MAX_TOTAL_STEPS", 3)
    model = ToyDiffusion(SMALL, DATASETS["ring"])
    for _ in range(3):
        model.step()
    with pytest.raises(RuntimeError, match="limit of 3 steps"):
        model.step()
    model.reset()
    with torch.no_grad():
        model.net.net[0].weight[0, 0] = float("nan")
    model.step()
    assert model.diverged and "diverged at step 1" in model.message
    json.dumps(model.snapshot().to_dict(), allow_nan=False)  # NaN points travel as null
    with pytest.raises(RuntimeError, match="diverged"):
        model.step()
    model.reset()
    assert not model.diverged and math.isfinite(model.step()["loss"])


def test_the_figures_draw_a_snapshot_in_few_traces():
    from genmodels.ui.lab.diffusion_plots import diffusion_field_figure, diffusion_paths_figure, diffusion_plane

    model = ToyDiffusion(SMALL, DATASETS["ring"])
    model.step()
    snap = model.snapshot().to_dict()
    plane = go.Figure(diffusion_plane(snap))
    field, paths = diffusion_field_figure(snap), diffusion_paths_figure(snap)
    assert [len(fig.data) for fig in (plane, field, paths)] == [2, 2, 4]
    assert len(plane.data[1].x) == N_POINTS and "DDIM, 10 steps" in plane.data[1].name
    assert np.isnan(field.data[1].x).any() and "t = 200" in field.layout.title.text  # NaN: a gap between arrows
    assert len(paths.data[1].x) == N_PATHS * (SMALL.sample_steps + 2)  # each path's points and a None
    assert tuple(paths.layout.xaxis.range) == snap["extent"][:2]
