"""The live 2-D GAN's manifold: G on a grid of latents, a slice when the noise has more than two coordinates, redrawn
as it trains, and served as JSON."""
import json
from dataclasses import replace
from statistics import NormalDist

import numpy as np
import pytest
import torch

from genmodels.errors import RequestError
from genmodels.gan.latent import latent_plane, quantile_grid
from genmodels.gan.toy2d import MESH_SIZE, PRESETS, ToyGAN
from genmodels.gan.toy_requests import ManifoldRequest, ManifoldResult, toy_manifold
from genmodels.ui.gan.plots import manifold_figure, mesh_lines
from genmodels.ui.gan.toy import draw
from genmodels.ui.plots import array

RING = PRESETS["Ring of 8: converges"]


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test here runs torch on one thread (conftest's fixture)."""


def test_the_grid_lines_sit_at_evenly_spaced_quantiles_of_the_gaussian():
    axis = quantile_grid(5, coverage=0.9)
    expected = [NormalDist().inv_cdf(q) for q in (0.05, 0.275, 0.5, 0.725, 0.95)]
    assert axis.tolist() == pytest.approx(expected, abs=1e-5)
    z = latent_plane(axis, 4)
    assert z.shape == (5, 5, 4) and z[2, 3].tolist() == pytest.approx([axis[3].item(), axis[2].item(), 0, 0])
    assert latent_plane(axis, 1).shape == (1, 5, 1)


@pytest.mark.parametrize("latent_dim", [1, 2, 8])
def test_the_mesh_at_the_latent_grid_is_g_on_those_points(latent_dim):
    run = ToyGAN(replace(RING, latent_dim=latent_dim))
    manifold = run.manifold(7)
    z = latent_plane(torch.from_numpy(manifold.axis), latent_dim)  # (rows, 7, latent_dim)
    with torch.no_grad():
        expected = torch.stack([torch.stack([run.G(z_ij[None])[0] for z_ij in row]) for row in z])  # one by one
    assert manifold.points.shape == (7 if latent_dim > 1 else 1, 7, 2)
    assert np.allclose(manifold.points, expected.numpy(), atol=1e-6)
    assert manifold.is_slice == (latent_dim > 2) and manifold.latent_dim == latent_dim


def test_the_mesh_follows_training_and_every_snapshot_carries_the_current_one():
    run = ToyGAN(RING)
    before = run.snapshot().manifold
    *_, after = run.train(60, every=30)
    assert after.step == 60 and after.manifold.points.shape == (MESH_SIZE, MESH_SIZE, 2)
    assert not np.allclose(before.points, after.manifold.points, atol=1e-3)  # G moved its grid
    assert np.array_equal(after.manifold.points, run.manifold().points)  # what G does now


def test_manifold_json_is_plain_and_the_page_draws_it():
    run = ToyGAN(replace(RING, latent_dim=8))
    list(run.train(5))
    result = toy_manifold(run, ManifoldRequest.build(grid_lines=12))
    data = json.loads(json.dumps(result.to_json(), allow_nan=False))
    assert {"step", "dataset", "extent", "real", "latent_dim", "is_slice", "axis", "points"} == set(data)
    assert data["is_slice"] and np.array(data["points"]).shape == (12, 12, 2)
    figure = manifold_figure(data)
    assert "slice" in figure.layout.title.text and "8 noise coordinates" in figure.layout.title.text
    mesh = next(trace for trace in figure.data if trace.mode == "lines")
    xs, ys = mesh_lines(data["points"])
    assert np.array_equal(mesh.x, array(xs), equal_nan=True) and xs.count(None) == 12 + 12  # rows, then columns
    *_, numbers, drawn = draw(run.snapshot())  # what toy_gan_step sends: the figure, its grid's numbers left out
    assert "manifold" not in numbers
    snapshot_mesh = mesh_lines(ManifoldResult.of(run.snapshot()).to_json()["points"])
    assert np.array_equal(next(trace for trace in drawn.data if trace.mode == "lines").x, array(snapshot_mesh[0]),
                          equal_nan=True)


@pytest.mark.parametrize("grid_lines, words", [(1, ["Grid lines", "2", "64"]), (65, ["64"]), ("x", ["Grid lines"]),
                                               (2.5, ["whole"])])
def test_bad_manifold_requests_say_what_is_wrong(grid_lines, words):
    with pytest.raises(RequestError) as excinfo:
        ManifoldRequest.build(grid_lines=grid_lines)
    assert all(w in str(excinfo.value) for w in words), str(excinfo.value)


def test_a_session_without_a_run_is_told_to_train_first():
    with pytest.raises(RequestError, match="train it first"):
        toy_manifold(None, ManifoldRequest.build())
