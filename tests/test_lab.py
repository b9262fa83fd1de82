"""The 2-D lab's session: three families on one data set, trained in turns, measured alike, raced, kept apart."""
import json

import pytest
import torch

from genmodels.errors import RequestError
from genmodels.lab.lab import FAMILIES, Lab
from genmodels.lab.requests import (
    LabRaceRequest,
    LabStepRequest,
    lab_settings,
    parse_points,
    race_lab,
    toggle_point,
    train_lab,
)


pytestmark = pytest.mark.usefixtures("one_thread")


def weights(model) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_training_redraws_every_50_steps_and_trains_only_the_chosen_families():
    lab = Lab(lab_settings())
    snapshots = list(lab.train(("diffusion", "gan"), 120))
    assert [s.families["diffusion"].steps for s in snapshots] == [50, 100, 120]
    assert [s.families["autoregressive"].steps for s in snapshots] == [0, 0, 0]
    last = snapshots[-1].families
    assert last["gan"].steps == 120 and last["gan"].nfe_per_sample == 1
    assert last["diffusion"].nfe_per_sample == lab.settings.diffusion.sample_steps
    assert last["diffusion"].train_seconds > 0 and last["autoregressive"].train_seconds == 0
    assert list(last["gan"].progress["step"]) == [50, 100, 120]
    json.dumps(snapshots[-1].to_dict(), allow_nan=False)


def test_two_sessions_stay_separate():
    first, second = Lab(lab_settings(seed=3)), Lab(lab_settings(seed=3))
    before = weights(second.models["gan"].G)
    list(first.train(FAMILIES, 50))
    assert all(second.models[family].steps == 0 for family in FAMILIES)
    assert torch.equal(weights(second.models["gan"].G), before)
    list(second.train(FAMILIES, 50))  # the same seed and steps: the same models as the first session's
    assert torch.equal(weights(first.models["gan"].G), weights(second.models["gan"].G))


def test_a_family_setting_restarts_that_family_alone_and_new_data_restarts_all():
    lab = Lab(lab_settings())
    list(lab.train(FAMILIES, 50))
    assert lab.adopt(lab_settings(temperature=0.5, diffusion_steps=10)) == []
    assert all(lab.models[f].steps == 50 for f in FAMILIES)
    assert lab.adopt(lab_settings(temperature=0.5, diffusion_steps=10, bins=16)) == ["autoregressive"]
    assert [lab.models[f].steps for f in FAMILIES] == [50, 0, 50]
    assert lab.adopt(lab_settings(dataset="grid")) == list(FAMILIES)
    assert all(lab.models[f].steps == 0 for f in FAMILIES)


def test_the_race_stops_each_family_at_full_cover_or_the_cap():
    request = LabRaceRequest.build(points="-1,0; 1,0", dataset="custom", race_steps=150)
    snapshots = [update.snapshot for update in race_lab(None, request)]
    assert snapshots[0].racing and not snapshots[-1].racing and snapshots[-1].race_over
    for family, view in snapshots[-1].families.items():
        assert view.steps <= 150
        assert view.covered_at is not None or view.steps == 150, family
        if view.covered_at is not None:
            assert view.measures.modes_covered == 2 or view.steps > view.covered_at


def test_a_race_needs_modes_and_the_moons_have_none():
    with pytest.raises(RequestError, match="modes"):
        LabRaceRequest.build(dataset="moons")


def test_train_lab_starts_a_session_and_reports_its_speed():
    request = LabStepRequest.build(families=["autoregressive"], steps=60)
    updates = list(train_lab(None, request))
    assert updates[-1].lab.models["autoregressive"].steps == 60
    assert "Trained 60 steps" in updates[-1].note


@pytest.mark.parametrize("named, message", [
    ({"dataset": "custom", "points": ""}, "Click the canvas"),
    ({"dataset": "custom", "points": "1,2; nonsense"}, "x,y pairs"),
    ({"dataset": "custom", "points": "9,0"}, "must lie in"),
    ({"dataset": "custom", "points": "0,0; 0.1,0"}, "apart"),
    ({"x_bin": 64}, "Chosen x bin"),
    ({"temperature": 0}, "greater than 0"),
    ({"sampler": "euler"}, "Diffusion sampler"),
    ({"seed": -1}, "Seed"),
    ({"lr_g": float("nan")}, "GAN learning rate"),
])
def test_bad_settings_get_a_clear_message(named, message):
    with pytest.raises(RequestError, match=message):
        lab_settings(**named)


def test_a_coarser_grid_moves_the_chosen_column_to_its_last():
    assert lab_settings(bins=8, x_bin=20).autoregressive.x_bin == 7


def test_families_must_be_named():
    with pytest.raises(RequestError, match="Families"):
        LabStepRequest.build(families=[])
    with pytest.raises(RequestError, match="Families"):
        LabStepRequest.build(families=["vae"])


def test_a_click_adds_a_point_and_a_click_on_it_removes_it():
    assert toggle_point("", 1, -1) == "1,-1"
    assert toggle_point("1,-1", 0.5, 0.5) == "1,-1; 0.5,0.5"
    assert toggle_point("1,-1; 0.5,0.5", 1.05, -1) == "0.5,0.5"
    full = "; ".join(f"{x / 2},{y / 2}" for x in range(-4, 4) for y in range(-2, 2))  # 32 points
    with pytest.raises(RequestError, match="At most 32"):
        toggle_point(full, 2.9, 2.9)
    assert parse_points(" 1,2 ;\n-1.5,0.25 ") == ((1.0, 2.0), (-1.5, 0.25))
