"""Inside the diffusion model: paths on a PCA map end at the sampled images, and the U-Net's predicted noise is
compared with the true noise from its real output."""
from dataclasses import replace

import numpy as np
import pytest
import torch

from genmodels import serving
from genmodels.diffusion import generate
from genmodels.diffusion import requests as family
from genmodels.diffusion.map_requests import MapRequest, diffusion_map
from genmodels.diffusion.schedule import q_sample
from genmodels.diffusion.trajectory_map import COMPARISONS, GUIDANCE_SCALES, PATHS
from genmodels.errors import RequestError
from genmodels.ui.diffusion.plots import map_figure, noise_correlation_figure, noise_scatter_figure, path_styles

STEPS = 4  # a short map: every property holds at any step count


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test here runs torch on one thread (conftest's fixture)."""


@pytest.fixture(scope="module")
def maps():
    """One small map per comparison."""
    return {c: diffusion_map(MapRequest.build(prompt="a sneaker", comparison=c, steps=STEPS, seed=3))
            for c in COMPARISONS}


@pytest.mark.parametrize("comparison", COMPARISONS)
def test_each_path_runs_from_its_start_noise_to_its_final_image(maps, comparison):
    result = maps[comparison]
    m = result.map
    assert m.paths.shape == (PATHS, STEPS + 1, 2) and m.x_t.shape == (PATHS, STEPS + 1, 1, 28, 28)
    assert torch.equal(m.paths[:, -1], m.projection(m.images))  # the end is the final image, projected
    noise = torch.cat([generate.start_noise(g.settings.seed, g.settings.count, "cpu") for g in result.request.groups()])
    assert torch.allclose(m.paths[:, 0], m.projection(noise.half()), atol=1e-3)  # the start is x_T
    assert (m.paths[:, -1, 0] - m.paths[:, 0, 0]).mean() > 0  # PC1 is turned so that paths run left to right
    starts = m.x_t[:, 0].flatten(1).float()
    pairs = len(starts) * (len(starts) - 1)
    assert m.start_distance == pytest.approx(torch.cdist(starts, starts).sum().item() / pairs, rel=1e-4)


@pytest.mark.parametrize("comparison", COMPARISONS)
def test_the_final_images_are_what_a_plain_sample_with_the_same_settings_gives(maps, comparison, monkeypatch):
    result = maps[comparison]
    dm = family.diffusion_model()
    plain = torch.cat([generate.sample(dm, g.settings, keep=0).images for g in result.request.groups()])
    # sampled side by side, the runs share the U-Net's batch, which may round a float differently: a gray level
    assert (result.map.images - plain).abs().max() <= 2 / 255
    monkeypatch.setenv(serving.BATCHING_ENV, "0")  # each run alone: the very same images
    alone = diffusion_map(result.request)
    assert torch.equal(alone.map.images, plain) and torch.equal(alone.map.paths[:, -1], alone.map.projection(plain))


def test_the_plane_is_the_top_two_principal_components_of_every_x_t(maps):
    m = maps["guidance"].map
    points = m.x_t.flatten(2).float().flatten(0, 1).double().numpy()  # (P * (S + 1), 784)
    centred = points - points.mean(0)
    _, singular, vh = np.linalg.svd(centred, full_matrices=False)
    components = m.projection.components.double().numpy()
    assert np.allclose(np.abs(components @ vh[:2].T), np.eye(2), atol=1e-3)  # the same axes, up to sign
    assert m.projection.explained == pytest.approx((singular[:2] ** 2 / (singular ** 2).sum()).tolist(), abs=1e-4)


def test_runs_that_share_a_start_noise_start_at_one_point_and_the_comparison_sets_the_runs(maps):
    guidance = maps["guidance"]
    starts = guidance.map.paths[:, 0]
    assert torch.equal(starts[0], starts[2]) and torch.equal(starts[1], starts[3])  # image 1 and 2 at every scale
    assert guidance.map.names == [f"guidance {s:g}" for s in GUIDANCE_SCALES for _ in range(2)]
    assert [g.settings.sampler for g in maps["sampler"].request.groups()] == ["DDIM", "DDPM"]
    assert maps["seeds"].labels()[:2] == ["seed 3 #1", "seed 3 #2"]
    data = maps["sampler"].to_json()
    assert len(data["paths"]) == PATHS and len(data["paths"][0]["points"]) == STEPS + 1
    assert len(data["projection"]["components"]) == 2 and len(data["projection"]["mean"]) == 784


@pytest.mark.parametrize("settings, words", [
    (dict(comparison="spiral"), ["Comparison", "seeds", "guidance", "sampler"]),
    (dict(steps=101), ["Map steps", "100"]), (dict(steps=1), ["Map steps", "2"]),
    (dict(guidance=-1), ["Guidance"]), (dict(sampler="Euler"), ["Sampler"]), (dict(prompt=7), ["Prompt"]),
])
def test_bad_map_requests_say_what_is_wrong(settings, words):
    with pytest.raises(RequestError) as excinfo:
        MapRequest.build(**settings)
    assert all(w in str(excinfo.value) for w in words), str(excinfo.value)


def test_the_noise_correlation_comes_from_the_unets_own_prediction():
    dm = family.diffusion_model()
    result = family.noise_prediction(family.ForwardRequest.build(example=7, t=300, seed=4))
    view = result.forward.view
    x0 = family.example_image(7)
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(4))
    t = torch.tensor([300])
    with torch.inference_mode():  # the U-Net called here, on x_t built here
        eps = dm.unet(q_sample(dm.schedule, x0, t, noise), t, generate.conditioning(dm, "", 1)[0])
    assert torch.equal(view.noise, noise)
    assert result.correlation == pytest.approx(np.corrcoef(noise.flatten(), eps.flatten())[0, 1], abs=1e-5)
    data = result.to_json()
    assert np.allclose(data["eps_pred"], eps[0, 0].numpy(), atol=1e-4)


def test_the_noise_correlation_curve_is_the_same_measure_at_every_t():
    result = family.noise_prediction(family.ForwardRequest.build(example=2, t=999, seed=1))
    timesteps, correlations = result.curve_timesteps, result.curve_correlations
    assert timesteps == sorted(timesteps) and timesteps[0] == 0 and timesteps[-1] == 999
    assert len(timesteps) == family.CURVE_POINTS and all(-1 <= r <= 1 for r in correlations)
    assert correlations[-1] == pytest.approx(result.correlation, abs=1e-4)  # t = 999 by itself and in the batch
    assert correlations[-1] > correlations[0]  # noise is easiest to name where there is most of it


def test_map_figure_marks_the_step_and_puts_each_final_image_at_the_end_of_its_path(maps):
    result = maps["guidance"]
    data = result.to_json()
    thumbnails = [f"data:image/png;base64,{i}" for i in range(PATHS)]
    fig = map_figure(data["paths"], thumbnails, 2, result.map.timesteps, result.map.projection.explained, "map")
    marked = next(trace for trace in fig.data if trace.name == "the marked step")
    assert list(marked.x) == [p["points"][2][0] for p in data["paths"]]
    assert [image.source for image in fig.layout.images] == thumbnails
    leaders = [(shape.x0, shape.y0) for shape in fig.layout.shapes]
    assert leaders == [tuple(p["points"][-1]) for p in data["paths"]]  # each thumbnail is joined to its path's end
    assert path_styles(["a", "a", "b", "b"]) == [(path_styles(["a"])[0][0], "solid"), (path_styles(["a"])[0][0], "dot"),
                                                 (path_styles(["x", "b"])[1][0], "solid"),
                                                 (path_styles(["x", "b"])[1][0], "dot")]


def test_noise_figures_show_every_pixel_and_mark_the_chosen_t():
    result = family.noise_prediction(family.ForwardRequest.build(example=0, t=500, seed=0))
    data = result.to_json()
    scatter = noise_scatter_figure(data["noise"], data["eps_pred"], result.correlation, 500)
    assert len(scatter.data[1].x) == 784 and "r = " in scatter.layout.title.text
    curve = data["curve"]
    figure = noise_correlation_figure(curve["timesteps"], curve["correlations"], curve["noise_levels"], 500,
                                      result.correlation)
    assert list(figure.data[1].x) == [500] and list(figure.data[1].y) == [result.correlation]


def test_guidance_scales_compared_side_by_side_are_what_plain_samples_give(monkeypatch):
    request = family.GuidanceComparisonRequest.build(prompt="a coat", steps=STEPS, seed=5, count=2)
    dm = family.diffusion_model()
    settings = generate.Settings(prompt="a coat", steps=STEPS, sampler="DDIM", eta=0.0, seed=5, count=2)
    plain = [generate.sample(dm, replace(settings, guidance=s), keep=0).images for s in family.GUIDANCE_SCALES]
    together = family.compare_guidance(request).batches  # the scales share the U-Net engine's ticks
    assert all((a - b).abs().max() <= 2 / 255 for a, b in zip(together, plain, strict=True))
    monkeypatch.setenv(serving.BATCHING_ENV, "0")
    assert all(torch.equal(a, b) for a, b in zip(family.compare_guidance(request).batches, plain, strict=True))
