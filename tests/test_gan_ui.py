"""The GAN tab's handlers without a server: streaming toy runs, divergence reports, picking, replay, comparisons."""
import json
import math

import gradio as gr
import numpy as np
import pytest
import torch

from genmodels.gan import runs, toy2d, toy_requests
from genmodels.gan.toy2d import ToyGAN, ToySettings
from genmodels.ui.gan import toy, views

TOY = dict(dataset="ring", loss="non-saturating", lr_g=1e-3, lr_d=1e-3, d_steps=1, seed=0, batch_size=64,
           latent_dim=2, hidden=32, depth=2)


def run_toy(run, steps, **changes):
    """All yields of one toy_gan_step call."""
    return list(toy.toy_gan_step(run, **(TOY | changes), steps=steps))


def test_toy_gan_step_snapshots_every_50_steps_redraws_the_first_and_ends_on_the_last_step(one_thread):
    snapshots = toy_requests.train_toy(None, toy_requests.ToyStepRequest.build(steps=120, **TOY))
    assert [update.snapshot.step for update in snapshots] == [50, 100, 120]
    updates = run_toy(None, 120)
    run = updates[-1][0]
    assert run.steps == 120
    shown = [numbers["step"] for *_, numbers, _ in updates]  # paced: the ones a browser has time to draw
    assert shown[0] == 50 and shown[-1] == 120 and shown == sorted(set(shown)) and set(shown) <= {50, 100, 120}
    *_, text, numbers, manifold = updates[-1]
    assert "Step 120" in text and "Step 120" in manifold.layout.title.text and "steps/s" in text
    json.dumps(numbers, allow_nan=False)
    assert run_toy(run, 10)[-1][0].steps == 130


def test_a_diverged_session_is_reported_without_raising_and_reset_recovers(one_thread):
    run = run_toy(None, 5)[-1][0]
    with torch.no_grad():
        next(run.G.parameters()).fill_(math.nan)
    updates = run_toy(run, 20)
    *_, text, numbers, _ = updates[-1]
    assert numbers["diverged"] and "diverged" in text and numbers["step"] == 6
    json.dumps(numbers, allow_nan=False)
    run = updates[-1][0]  # the session's run as the last update left it (trained in a worker process)
    updates = run_toy(run, 5)  # pressing Train again explains, it does not crash
    assert "Reset" in updates[-1][3]
    fresh, *_, numbers, _ = toy.toy_gan_reset(**TOY)
    assert numbers["step"] == 0 and not numbers["diverged"] and fresh is not run


@pytest.mark.parametrize("changes, words", [(dict(lr_g=0.2), ["lr_g"]), (dict(dataset="spiral"), ["dataset"]),
                                            (dict(hidden=1000), ["hidden"]), (dict(seed=-3), ["seed"])])
def test_bad_toy_settings_raise_a_readable_gradio_error(changes, words):
    with pytest.raises(gr.Error) as excinfo:
        run_toy(None, 10, **changes)
    assert all(word in str(excinfo.value) for word in words)


def test_presets_fill_every_setting_widget():
    for name in toy.PRESETS:
        values = toy.apply_preset(name)
        assert ToySettings(**values).validate() == toy.PRESETS[name]
    with pytest.raises(gr.Error):
        toy.apply_preset("Spiral")


def test_learning_rates_change_mid_run_and_the_data_restarts_it(one_thread):
    run = ToyGAN(ToySettings(**TOY))
    run.train(3).__next__()
    assert not run.adopt(ToySettings(**(TOY | dict(lr_g=5e-3)))) and run.steps == 3
    assert run.opt_g.param_groups[0]["lr"] == 5e-3
    assert run.adopt(ToySettings(**(TOY | dict(dataset="moons")))) and run.steps == 0


def test_picking_a_sample_sets_the_chosen_end():
    event = gr.SelectData(None, {"index": 5, "value": None})
    assert views.on_pick("A", 11, event)[:2] == (11, 5)
    assert views.on_pick("B", 11, event)[2:] == (11, 5)
    assert all(v is not None for v in views.on_pick("A", None, event))  # before any grid: nothing changes


def test_replay_clamps_the_snapshot_and_names_bad_kinds():
    picture, figure, caption = views.on_replay("healthy", 1000)
    steps = runs.replay_record("healthy")[0]["snapshots"]["step"]
    assert caption.startswith(f"Snapshot {len(steps)} of {len(steps)}")
    assert picture.size[0] == picture.size[1]
    with pytest.raises(gr.Error):
        views.on_replay("sleepy", 1)


def test_the_collapsed_replay_names_its_two_phases():
    *_, first = views.on_replay("collapsed", 1)
    log = runs.replay_record("collapsed")[0]
    assert f"Until step {log['settings']['d_steps']:,} only the discriminator learns" in first
    assert "only the discriminator" not in views.on_replay("healthy", 1)[2]


def test_compare_judges_both_generators_and_the_collapsed_one_is_less_varied():
    healthy, collapsed, figure, stats = views.on_compare(0, 128)
    assert len(healthy) == len(collapsed) == runs.COMPARE_SHOWN
    assert "healthy" in stats and "collapsed" in stats
    entropy = {trace.name: trace.y for trace in figure.data}
    shares = {kind: torch.tensor(values) for kind, values in entropy.items()}
    assert shares["healthy"].sum() == pytest.approx(1) and shares["collapsed"].max() > shares["healthy"].max()


def test_discriminator_view_shows_the_generated_images_it_likes_least_and_most():
    figure, stats, least, most = views.on_discriminate("healthy", 64, 0)
    assert len(least) == len(most) == views.EXTREMES and "Mean P(real)" in stats
    scores = [float(caption.split(" ")[0]) for _, caption in least + most]
    assert scores[:views.EXTREMES] == sorted(scores[:views.EXTREMES])
    assert max(scores[:views.EXTREMES]) <= min(scores[views.EXTREMES:])
    assert {trace.name for trace in figure.data} == {"real Fashion-MNIST", "generated"}


def test_a_discriminator_worse_than_chance_is_explained_not_left_beside_the_50_percent_line():
    collapsed = views.on_discriminate("collapsed", 128, 0)[1]
    healthy = views.on_discriminate("healthy", 128, 0)[1]
    assert "consistently wrong" in collapsed and "consistently wrong" not in healthy


def test_step_d_and_step_g_update_one_network_each_and_say_how_they_count(one_thread):
    run, plane, curves, text, numbers, _ = toy.toy_gan_update(None, "g", **TOY)
    assert (numbers["step"], numbers["d_updates"]) == (1, 0) and "generator update alone" in text
    run, plane, curves, text, numbers, _ = toy.toy_gan_update(run, "d", **TOY)
    assert (numbers["step"], numbers["d_updates"]) == (1, 1) and "not to the step count" in text
    assert run_toy(run, 50)[-1][4]["d_updates"] == 51  # Train continues the same run
    assert {trace.name for trace in plane.data} >= {"real data", "generated", "trails", "G's push"}
    with pytest.raises(gr.Error, match="Part"):
        toy.toy_gan_update(run, "both", **TOY)


def test_the_preset_box_names_the_matching_preset_or_custom():
    for name, preset in toy.PRESETS.items():
        assert toy_requests.preset_of(**toy.apply_preset(name)) == name
    collapse = toy.apply_preset("Ring of 8: mode collapse")
    assert toy_requests.preset_of(**(collapse | dict(seed=3))) == toy_requests.CUSTOM
    assert toy_requests.preset_of(**(collapse | dict(lr_g=float("nan")))) == toy_requests.CUSTOM


def test_the_plane_draws_trails_arrows_with_heads_and_a_colour_bar_under_it(one_thread):
    run = run_toy(None, 100)[-1][0]
    figure = toy.draw(run.snapshot())[0]
    traces = {trace.name: trace for trace in figure.data}
    trail = traces["trails"].x
    breaks = np.isnan(trail).sum()  # NaN breaks the line
    assert breaks == 128 and len(trail) == 128 * 3  # a subset of points: step 50, now, a break
    arrows = traces["G's push"].x
    breaks = np.isnan(arrows).sum()
    assert 0 < breaks <= 2 * 48 and len(arrows) == 7 * breaks // 2  # shaft + head each
    order = [trace.name for trace in figure.data]
    assert order.index("G's push") < order.index("real data") < order.index("generated")  # points on top
    assert figure.data[0].colorbar.orientation == "h"
    real, fake = traces["real data"].marker, traces["generated"].marker
    assert real.color != fake.color and real.symbol != fake.symbol and fake.line.width >= 1
