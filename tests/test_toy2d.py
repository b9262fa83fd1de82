"""The live 2-D GAN: toy data, metrics, presets that converge or collapse, reproducible isolated bounded sessions."""
import json
import math
from dataclasses import is_dataclass, replace

import numpy as np
import pytest
import torch

from genmodels.gan import toy2d, toy_data
from genmodels.gan.toy2d import GRID_SIZE, HISTORY_KEYS, N_POINTS, PRESETS, ToyGAN, ToySettings
from genmodels.lab.parts import History
from genmodels.gan.toy_data import DATASETS, mode_coverage, sample_real, sliced_wasserstein

RING, COLLAPSE = "Ring of 8: converges", "Ring of 8: mode collapse"
EASY_STEPS = 1000


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test here runs torch on one thread (conftest's fixture)."""


@pytest.fixture(scope="module")
def ring_run():
    """The converging ring preset: its snapshot at step 0 and after EASY_STEPS steps."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    gan = ToyGAN(PRESETS[RING])
    start = gan.snapshot()
    *_, end = gan.train(EASY_STEPS, every=EASY_STEPS)
    torch.set_num_threads(threads)
    return start, end


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_mixture_samples_lie_near_their_modes_in_equal_shares(name):
    dist = DATASETS[name]
    x = sample_real(name, 4000, torch.Generator().manual_seed(0))
    assert x.shape == (4000, 2) and x.dtype == torch.float32
    d, nearest = torch.cdist(x, torch.tensor(dist.centers)).min(1)
    assert d.max() < 5 * dist.sigma
    shares = torch.bincount(nearest, minlength=len(dist.centers)) / len(x)
    assert (shares - 1 / len(dist.centers)).abs().max() < 0.4 / len(dist.centers)


def test_moons_samples_lie_near_two_half_circles():
    x = sample_real("moons", 4000, torch.Generator().manual_seed(0))
    assert x.shape == (4000, 2)
    t = torch.linspace(0, math.pi, 2000)
    upper = torch.stack([t.cos(), t.sin()], 1)  # sklearn's make_moons, before centering and scaling
    lower = torch.stack([1 - t.cos(), 0.5 - t.sin()], 1)
    arcs = (torch.cat([upper, lower]) - torch.tensor(toy_data.MOONS_SHIFT)) * toy_data.MOONS_SCALE  # (4000, 2)
    d, nearest = torch.cdist(x, arcs).min(1)
    assert d.max() < 5 * DATASETS["moons"].sigma
    assert abs((nearest < 2000).float().mean() - 0.5) < 0.05  # half the points on each moon


def test_unknown_dataset_is_rejected():
    with pytest.raises(ValueError, match="unknown dataset"):
        sample_real("spiral", 10, torch.Generator())


def test_sliced_wasserstein_is_zero_for_a_permutation_and_measures_a_shift():
    a = torch.randn(256, 2, generator=torch.Generator().manual_seed(1))
    assert sliced_wasserstein(a, a[torch.randperm(256)]) == pytest.approx(0.0, abs=1e-6)
    v = torch.tensor([0.3, -0.4])  # |v| = 0.5; mean |cos| over evenly spaced angles is 2 / pi
    assert sliced_wasserstein(a, a + v) == pytest.approx(0.5 * 2 / math.pi, rel=1e-3)


def test_mode_coverage_counts_points_within_three_sigma():
    centers = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    points = torch.tensor([[0.0, 0.05], [0.0, -0.2], [1.0, 0.14], [0.5, 0.5]])  # 3 sigma = 0.15
    shares, in_modes = mode_coverage(points, centers, sigma=0.05)
    assert shares.tolist() == [0.25, 0.25, 0.0] and in_modes == 0.5


def test_every_preset_and_the_defaults_validate():
    for settings in [ToySettings(), *PRESETS.values()]:
        assert settings.validate() == settings
    assert ToySettings(d_steps=2.0, lr_g=np.float32(0.002)).validate().d_steps == 2  # whole floats become ints


@pytest.mark.parametrize("field, value", [
    ("dataset", "spiral"), ("loss", "wasserstein"), ("lr_g", 0.0), ("lr_d", 0.5), ("lr_g", float("nan")),
    ("d_steps", 0), ("d_steps", 11), ("batch_size", 8), ("batch_size", 4096), ("latent_dim", 0),
    ("hidden", 1000), ("depth", 2.5), ("seed", -1), ("d_steps", True)])
def test_validate_names_each_out_of_range_setting(field, value):
    with pytest.raises(ValueError, match=field):
        replace(ToySettings(), **{field: value}).validate()
    with pytest.raises(ValueError, match=field):
        ToyGAN(replace(ToySettings(), **{field: value}))


def test_the_easy_preset_improves(ring_run):
    start, end = ring_run
    assert end.step == EASY_STEPS and not end.diverged
    assert start.modes_covered <= 1 and end.modes_covered == 8
    assert end.in_modes > start.in_modes + 0.3
    assert end.distance < 0.3 * start.distance


def test_the_collapse_preset_covers_clearly_fewer_modes(ring_run):
    _, healthy = ring_run
    *_, collapsed = ToyGAN(PRESETS[COLLAPSE]).train(EASY_STEPS, every=EASY_STEPS)
    assert not collapsed.diverged and collapsed.modes_covered <= 3
    assert collapsed.modes_covered <= healthy.modes_covered - 5
    assert collapsed.distance > 2 * healthy.distance


def assert_same_snapshot(a, b):
    for key, value in vars(a).items():
        other = getattr(b, key)
        if isinstance(value, dict):
            assert value.keys() == other.keys() and all(np.array_equal(value[k], other[k]) for k in value)
        elif is_dataclass(value):  # the manifold
            assert_same_snapshot(value, other)
        elif isinstance(value, np.ndarray):
            assert np.array_equal(value, other), key
        else:
            assert value == other, key


def test_train_yields_every_few_steps_and_at_the_end_and_the_same_seed_repeats_exactly():
    settings = replace(ToySettings(), hidden=32, batch_size=64)
    first = list(ToyGAN(settings).train(10, every=4))
    second = list(ToyGAN(settings).train(10, every=4))
    assert [s.step for s in first] == [4, 8, 10]
    for a, b in zip(first, second):
        assert_same_snapshot(a, b)
    other_seed = list(ToyGAN(replace(settings, seed=1)).train(10, every=4))
    assert not np.array_equal(first[-1].fake, other_seed[-1].fake)


def test_sessions_share_no_state():
    settings = replace(ToySettings(), hidden=32, batch_size=64)
    a, b, fresh = ToyGAN(settings), ToyGAN(settings), ToyGAN(settings)
    before = {k: v.clone() for k, v in b.G.state_dict().items()} | {k: v.clone() for k, v in b.D.state_dict().items()}
    global_rng = torch.random.get_rng_state()
    list(a.train(20, every=20))
    after = b.G.state_dict() | b.D.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert b.steps == 0 and b.history.rows == [] and a.steps == 20
    assert torch.equal(torch.random.get_rng_state(), global_rng)  # sessions draw only from their own generator
    assert b.step() == fresh.step()  # a's training consumed none of b's randomness


def test_a_nan_parameter_is_detected_training_stops_and_reset_recovers():
    settings = replace(ToySettings(), hidden=32, batch_size=64)
    gan = ToyGAN(settings)
    list(gan.train(5, every=5))
    with torch.no_grad():
        gan.G[0].weight[0, 0] = float("nan")
    snapshots = list(gan.train(100, every=1))
    assert len(snapshots) == 1 and gan.steps == 6  # stopped at the first bad step
    final = snapshots[-1]
    assert final.diverged and "diverged at step 6" in final.message
    json.dumps(final.to_dict(), allow_nan=False)  # NaN points travel as null
    with pytest.raises(RuntimeError, match="diverged"):
        gan.step()
    with pytest.raises(RuntimeError, match="diverged"):
        gan.train(10)
    gan.reset()
    assert not gan.diverged and gan.steps == 0 and gan.message == ""
    assert_same_snapshot(gan.snapshot(), ToyGAN(settings).snapshot())
    assert all(math.isfinite(v) for v in gan.step().values())


def test_an_absurd_learning_rate_past_validate_diverges_and_is_reported():
    gan = ToyGAN(replace(ToySettings(), hidden=32, batch_size=64))
    for group in gan.opt_d.param_groups + gan.opt_g.param_groups:
        group["lr"] = 1e30
    *_, final = gan.train(200, every=200)
    assert final.diverged and gan.steps < 200


def test_the_step_cap_is_enforced(monkeypatch):
    monkeypatch.setattr(toy2d, "MAX_TOTAL_STEPS", 12)
    gan = ToyGAN(replace(ToySettings(), hidden=32, batch_size=64))
    list(gan.train(8, every=8))
    *_, final = gan.train(8, every=8)  # only 4 steps remain: a stated clamp
    assert final.step == 12 and "limit of 12 steps" in final.message and not final.diverged
    with pytest.raises(RuntimeError, match="limit of 12 steps"):
        gan.train(1, every=1)
    with pytest.raises(RuntimeError, match="limit of 12 steps"):
        gan.step()
    fresh = ToyGAN(replace(ToySettings(), hidden=32, batch_size=64))
    for n_steps, every, bad in ((0, 1, "n_steps"), (13, 1, "n_steps"), (2.5, 1, "n_steps"), (5, 0, "every")):
        with pytest.raises(ValueError, match=bad):
            fresh.train(n_steps, every)


def test_history_stays_bounded_and_evenly_spaced():
    history = History(HISTORY_KEYS, cap=8)
    for step in range(1, 1001):
        history.add((step, 0.0, 0.0, 0.5, 0.5))
    steps = history.as_arrays()["step"]
    assert 4 <= len(steps) < 8 and steps[-1] >= 1000 - history.stride
    assert len(set(np.diff(steps))) == 1 and steps[0] == history.stride


def test_the_push_on_fake_points_raises_d_and_the_snapshot_is_plain_json():
    gan = ToyGAN(replace(ToySettings(), hidden=32, batch_size=64))
    list(gan.train(30, every=30))
    snap = gan.snapshot()
    fake, push = torch.from_numpy(snap.fake), torch.from_numpy(snap.push)
    with torch.no_grad():
        moved = fake + 1e-3 * push / push.norm(dim=1, keepdim=True).clamp(min=1e-12)
        assert (gan.D(moved) > gan.D(fake)).float().mean() > 0.9  # -grad of -log D(G(z)) points uphill in D
    data = json.loads(json.dumps(snap.to_dict(), allow_nan=False))
    assert len(data["real"]) == len(data["fake"]) == len(data["push"]) == N_POINTS
    assert np.array(data["d_grid"]).shape == (GRID_SIZE, GRID_SIZE) and data["step"] == 30
    assert data["modes_covered"] == snap.modes_covered and len(data["history"]["loss_d"]) == 30


def test_a_step_is_d_steps_lone_d_updates_then_a_lone_g_update_and_only_g_counts():
    settings = replace(ToySettings(), hidden=32, batch_size=64, d_steps=2)
    whole, parts = ToyGAN(settings), ToyGAN(settings)
    for _ in range(3):
        expected = whole.step()
        parts.step_d(), parts.step_d()
        assert parts.step_g() == expected  # one implementation: the same draws, the same numbers
    assert_same_snapshot(whole.snapshot(), parts.snapshot())
    assert (whole.steps, whole.d_updates) == (3, 6)
    before = parts.snapshot()
    parts.step_d()  # D alone: the background changes, the points and the step counter do not
    after = parts.snapshot()
    assert (after.step, after.d_updates) == (3, 7) and np.array_equal(after.fake, before.fake)
    assert not np.array_equal(after.d_grid, before.d_grid) and len(after.history["step"]) == 3
    parts.step_g()  # G alone: one more step and one more history row, D untouched
    final = parts.snapshot()
    assert (final.step, final.d_updates) == (4, 7) and np.array_equal(final.d_grid, after.d_grid)
    assert final.history["step"][-1] == 4 and final.history["loss_d"][-1] == parts.last["loss_d"]


def test_a_lone_g_update_before_any_d_update_records_no_d_figures():
    gan = ToyGAN(replace(ToySettings(), hidden=32, batch_size=64))
    assert set(gan.step_g()) == {"loss_g", "d_fake"}
    data = json.loads(json.dumps(gan.snapshot().to_dict(), allow_nan=False))
    assert data["history"]["loss_d"] == [None] and data["history"]["step"] == [1]


def test_lone_updates_obey_divergence_and_the_step_cap(monkeypatch):
    monkeypatch.setattr(toy2d, "MAX_TOTAL_STEPS", 2)
    gan = ToyGAN(replace(ToySettings(), hidden=32, batch_size=64))
    gan.step_g(), gan.step_g()
    for update in (gan.step_d, gan.step_g):
        with pytest.raises(RuntimeError, match="limit of 2 steps"):
            update()
    gan.reset()
    with torch.no_grad():
        gan.D[0][0].weight[0, 0] = float("nan")
    gan.step_d()
    assert gan.diverged and "D weights" in gan.message
    with pytest.raises(RuntimeError, match="diverged"):
        gan.step_g()


def test_the_trail_keeps_the_last_redraws_of_each_generated_point():
    gan = ToyGAN(replace(ToySettings(), hidden=32, batch_size=64))
    positions = [gan.snapshot().fake]
    assert gan.snapshot().trail.shape == (0, N_POINTS, 2)  # a redraw at the same step adds nothing
    for _ in range(toy2d.TRAIL + 2):
        list(gan.train(3, every=3))
        positions.append(gan.snapshot().fake)
    gan.step_d()  # D alone moves no point: the trail stays
    snap = gan.snapshot()
    assert snap.trail.shape == (toy2d.TRAIL, N_POINTS, 2)
    assert np.array_equal(snap.trail, np.stack(positions[-toy2d.TRAIL - 1:-1]))  # oldest first, current left out
    gan.reset()
    assert gan.snapshot().trail.shape == (0, N_POINTS, 2)
