"""The 2-D lab's autoregressive model: settings, distributions that sum to 1, samples that follow them, learning,
temperature, reproducible bounded sessions, and its figures."""
import json
import math
from dataclasses import replace

import plotly.graph_objects as go
import pytest
import torch

from genmodels.gan.toy_data import DATASETS
from genmodels.lab import ar2d
from genmodels.lab.ar2d import ARSettings, ToyAR
from genmodels.runtime import make_generator

RING = DATASETS["ring"]
TRAIN_STEPS = 300


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test here runs torch on one thread (conftest's fixture)."""


@pytest.fixture(scope="module")
def trained():
    """A model trained TRAIN_STEPS steps on the ring with the default settings."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    model = ToyAR(ARSettings(), RING)
    for _ in range(TRAIN_STEPS):
        model.step()
    torch.set_num_threads(threads)
    return model


def entropy(p) -> float:
    p = torch.as_tensor(p, dtype=torch.float64)
    p = p[p > 0]
    return float(-(p * p.log2()).sum())


def total_variation(p, q) -> float:
    return float((torch.as_tensor(p, dtype=torch.float64) - torch.as_tensor(q, dtype=torch.float64)).abs().sum() / 2)


def test_bad_settings_are_refused_naming_each_one():
    with pytest.raises(ValueError) as refused:
        ARSettings(bins=3, lr=0, temperature=0, hidden=1.5, batch_size=True).validate()
    for name in ("bins", "lr", "temperature", "hidden", "batch_size"):
        assert name in str(refused.value)
    with pytest.raises(ValueError, match=r"x_bin must be a whole number in \[0, 7\]"):
        ARSettings(bins=8, x_bin=8).validate()
    with pytest.raises(ValueError, match="temperature"):
        ARSettings(temperature=ar2d.TEMPERATURE_MAX + 0.1).validate()
    good = ARSettings(bins=8.0, x_bin=7.0, temperature=2).validate()
    assert (type(good.bins), type(good.x_bin), type(good.temperature)) == (int, int, float)
    assert ARSettings().x_bin == ARSettings().bins // 2


@pytest.mark.parametrize("temperature", [1.0, 0.5, 3.0])
def test_p_x_and_every_p_y_given_x_sum_to_one(trained, temperature):
    p_x, p_y_given_x = trained.distributions(temperature)  # (bins,), (bins, bins)
    assert p_x.shape == (32,) and p_y_given_x.shape == (32, 32)
    assert (p_x >= 0).all() and (p_y_given_x >= 0).all()
    assert torch.allclose(p_x.sum(), torch.tensor(1.0, dtype=torch.float64))
    assert torch.allclose(p_y_given_x.sum(1), torch.ones(32, dtype=torch.float64))
    snap = trained.snapshot()
    assert math.isclose(snap.joint.sum(), 1, abs_tol=1e-9) and math.isclose(snap.data_joint.sum(), 1, abs_tol=1e-9)
    assert math.isclose(snap.data_p_x.sum(), 1, abs_tol=1e-9)


def test_samples_follow_the_models_distributions(trained):
    model = ToyAR(replace(trained.settings, temperature=0.7), RING)
    model.net.load_state_dict(trained.net.state_dict())
    p_x, p_y_given_x = model.distributions(0.7)
    tx, ty = model.tokenize(model.sample(40_000, make_generator(1)))
    assert total_variation(torch.bincount(tx, minlength=32) / len(tx), p_x) < 0.02
    common = int(p_x.argmax())
    in_column = ty[tx == common]
    assert total_variation(torch.bincount(in_column, minlength=32) / len(in_column), p_y_given_x[common]) < 0.05


def test_samples_land_inside_their_cells_and_do_not_flicker(trained):
    points, tx, ty = trained.draw(trained.uniforms, trained.jitter)
    for axis, tokens, edges in ((0, tx, trained.edges_x), (1, ty, trained.edges_y)):
        coordinate = points[:, axis].double()  # (N_POINTS,)
        assert ((coordinate >= edges[tokens] - 1e-5) & (coordinate <= edges[tokens + 1] + 1e-5)).all()
    assert len(set(map(tuple, points.tolist()))) == len(points)  # jittered, not stacked on cell corners
    assert torch.equal(trained.samples(), trained.samples())


def test_points_outside_the_plane_go_to_the_edge_bins():
    model = ToyAR(ARSettings(bins=8, x_bin=0), RING)
    tx, ty = model.tokenize(torch.tensor([[-9.0, 9.0], [-3.0, 2.999], [0.0, 0.0]]))
    assert tx.tolist() == [0, 0, 4] and ty.tolist() == [7, 7, 4]


def test_loss_falls_to_the_datas_entropy(trained):
    loss = trained.history.as_arrays()["loss"]
    assert loss[:10].mean() > 4  # near log2(32) = 5 bits: uniform over the cells
    assert loss[-50:].mean() < trained.data_bits + 0.4
    assert trained.snapshot().last["loss"] == loss[-1]


def test_temperature_sharpens_below_one_and_flattens_above(trained):
    entropies = [entropy(trained.distributions(t)[0]) for t in (0.5, 1.0, 2.0)]
    assert entropies[0] < entropies[1] < entropies[2]


def test_same_settings_and_seed_give_identical_snapshots():
    first, second = ToyAR(ARSettings(seed=5), RING), ToyAR(ARSettings(seed=5), RING)
    for _ in range(60):
        first.step(), second.step()
    assert first.snapshot().to_dict() == second.snapshot().to_dict()
    assert ToyAR(ARSettings(seed=6), RING).snapshot().to_dict() != ToyAR(ARSettings(seed=5), RING).snapshot().to_dict()


def test_live_settings_apply_at_once_and_others_restart():
    model = ToyAR(ARSettings(), RING)
    for _ in range(20):
        model.step()
    before = model.samples()
    assert model.adopt(ARSettings(temperature=0.5, x_bin=3)) is False
    snap = model.snapshot()
    assert (model.steps, snap.x_bin, snap.temperature) == (20, 3, 0.5)
    assert not torch.equal(model.samples(), before)
    assert model.adopt(ARSettings(bins=16, x_bin=15)) is True
    assert model.steps == 0 and model.snapshot().p_x.shape == (16,) and len(model.snapshot().bin_edges_x) == 17
    with pytest.raises(ValueError, match="x_bin"):
        model.adopt(ARSettings(bins=8))


def test_snapshot_is_plain_json(trained):
    snap = trained.snapshot()
    assert snap.samples.shape == snap.real.shape == (ar2d.N_POINTS, 2)
    assert trained.nfe_per_sample == 2
    text = json.dumps(snap.to_dict(), allow_nan=False)
    empty = ToyAR(ARSettings(x_bin=0), RING).snapshot()  # the ring puts no points in the leftmost column
    assert empty.data_p_y_given_x.sum() == 0
    assert json.loads(text)["bins"] == 32 and json.dumps(empty.to_dict(), allow_nan=False)


def test_a_session_stops_at_its_step_limit_and_at_divergence():
    model = ToyAR(ARSettings(), RING)
    model.steps = ar2d.MAX_TOTAL_STEPS
    with pytest.raises(RuntimeError, match="limit"):
        model.step()
    model.reset()
    with torch.no_grad():
        model.net[0].weight.fill_(math.nan)
    model.step()
    assert model.diverged and "diverged at step 1" in model.snapshot().message
    with pytest.raises(RuntimeError, match="diverged"):
        model.step()


def test_figures_show_the_grid_the_column_and_the_temperature(trained):
    from genmodels.ui.lab.ar_plots import ar_conditionals_figure, ar_plane

    view = trained.snapshot().to_dict()
    plane = go.Figure(ar_plane(view))
    assert len(plane.data[0].z) == 32 and len(plane.data[0].x) == 33
    assert plane.layout.shapes[0].x0 == view["bin_edges_x"][16]
    assert len(ar_conditionals_figure(view).data) == 4  # data and model, for p(x) and p(y | x)
    hot = ToyAR(replace(trained.settings, temperature=2.0), RING).snapshot().to_dict()
    assert len(ar_conditionals_figure(hot).data) == 6  # and the model at T = 2
