"""Training timelines: the schedule, the snapshots the tiny text, diffusion and pixel runs keep (ordered, first and
last step, losses as in the training log, decoded text, a sprite of the stated size), the snapshot requests the page
and the API share, and the committed models' timelines against their logs."""
import json
import operator

import numpy as np
import pytest
import torch
from PIL import Image

from genmodels.errors import RequestError

from genmodels.pixels.model import N_CLASSES, PixelConfig, PixelTransformer
from genmodels.pixels.sample import sample_classes, sample_pixels
from genmodels.pixels.train import train as train_pixels
from genmodels.timeline import SPRITE, TIMELINE_JSON, TRAIN_WINDOW, evaluating, snapshot_steps
from genmodels.timeline_requests import FAMILIES, TimelineRequest, load_timeline, probe_names, timeline_snapshot
from tests.conftest import cpu_one_thread
from tests.test_diffusion_model import tiny_run, tokenizer  # noqa: F401 (fixtures: the tiny diffusion run)
from tests.test_train_tiny import run  # noqa: F401 (fixture: the tiny text run)

# When a run's train log holds step k's loss: text and pixels log the loss of the batch step k trained on, after a
# snapshot at k was taken; diffusion logs the mean loss up to k steps done, before a snapshot at k.
LOGGED_BEFORE_SNAPSHOT = {"text": operator.lt, "pixels": operator.lt, "diffusion": operator.le}


@pytest.fixture(scope="module")
def pixel_run(tmp_path_factory):
    generator = torch.Generator().manual_seed(0)
    images = (torch.rand(64, 28, 28, generator=generator) * 255).to(torch.uint8)
    out_dir = tmp_path_factory.mktemp("pixels")
    with cpu_one_thread():
        log = train_pixels("tiny", out_dir, images=(images, torch.arange(64) % 10))
    return out_dir, log


@pytest.fixture(params=["text", "diffusion", "pixels"])
def family_run(request):
    """(family, out_dir, train log, timeline) of one tiny run."""
    fixture = {"text": "run", "diffusion": "tiny_run", "pixels": "pixel_run"}[request.param]
    out_dir, log = request.getfixturevalue(fixture)[-2:]
    return request.param, out_dir, log, json.loads((out_dir / TIMELINE_JSON).read_text())


@pytest.mark.parametrize("steps, every", [(3500, 10), (5000, 25), (60, 10), (30, 1), (6, 10)])
def test_schedule_is_dense_early_on_the_log_interval_and_ends_at_the_last_step(steps, every):
    planned = snapshot_steps(steps, every)
    assert planned[0] == 0 and planned[-1] == steps and len(planned) <= 12
    assert all(a < b for a, b in zip(planned, planned[1:]))
    assert all(step % every == 0 for step in planned[:-1])
    gaps = [b - a for a, b in zip(planned[1:-1], planned[2:-1])]
    assert gaps == sorted(gaps)  # sparser as training goes on
    if steps == 3500:
        assert len(planned) == 12 and planned[:3] == [0, 10, 20]


def test_snapshots_are_ordered_from_step_zero_to_the_last_step(family_run):
    family, _, log, timeline = family_run
    steps = [snapshot["step"] for snapshot in timeline["snapshots"]]
    assert timeline["family"] == family and steps[0] == 0 and steps[-1] == log["steps_done"]
    assert steps == sorted(set(steps)) and set(steps) == set(timeline["planned_steps"])  # the tiny runs end on plan
    seconds = [snapshot["seconds"] for snapshot in timeline["snapshots"]]
    assert seconds == sorted(seconds) and seconds[-1] <= log["seconds"] + 0.1  # the log rounds to 0.1 s
    assert 0 < timeline["recording_seconds"] < log["seconds"]


def test_recorded_losses_match_the_training_log(family_run):
    family, _, log, timeline = family_run
    logged_before = LOGGED_BEFORE_SNAPSHOT[family]
    for snapshot in timeline["snapshots"]:
        logged = [(k, loss) for k, loss in zip(log["train"]["step"], log["train"]["loss"])
                  if logged_before(k, snapshot["step"])][-TRAIN_WINDOW:]
        if not logged:
            assert snapshot["train_loss"] is None
            continue
        assert snapshot["train_loss_steps"] == [logged[0][0], logged[-1][0]]
        assert snapshot["train_loss"] == pytest.approx(sum(loss for _, loss in logged) / len(logged), abs=1e-5)
        if "val" in log:
            assert snapshot["val_loss"] == log["val"]["loss"][log["val"]["step"].index(snapshot["step"])]
    if "val" in log:
        first, last = timeline["snapshots"][0], timeline["snapshots"][-1]
        assert last["val_loss"] < first["val_loss"]  # the tiny runs learn


def test_text_snapshots_hold_decoded_text_and_bits_per_character(run):  # noqa: F811
    _, out_dir, _ = run
    timeline = json.loads((out_dir / TIMELINE_JSON).read_text())
    assert timeline["probe"]["temperature"] == 0.8 and timeline["probe"]["prompt"].startswith("KING.\n")
    for snapshot in timeline["snapshots"]:
        assert isinstance(snapshot["text"], str) and len(snapshot["text"]) > 20
        assert "Ġ" not in snapshot["text"]  # decoded, not byte-level token pieces
        chars_per_token = snapshot["val_loss"] / snapshot["val_bits_per_char"]  # ln 2 x chars / tokens: one ratio
        assert chars_per_token == pytest.approx(timeline["snapshots"][0]["val_loss"]
                                                / timeline["snapshots"][0]["val_bits_per_char"], rel=1e-3)
    assert not (out_dir / SPRITE).exists()


@pytest.mark.parametrize("fixture, probes", [("tiny_run", "prompts"), ("pixel_run", "labels")])
def test_image_sprite_has_a_row_per_snapshot_and_a_tile_per_probe(request, fixture, probes):
    out_dir, _ = request.getfixturevalue(fixture)
    timeline = json.loads((out_dir / TIMELINE_JSON).read_text())
    sprite = timeline["sprite"]
    assert sprite["file"] == SPRITE and sprite["rows"] == len(timeline["snapshots"])
    assert sprite["columns"] == len(timeline["probe"][probes]) == N_CLASSES
    with Image.open(out_dir / SPRITE) as image:
        assert image.mode == "L" and image.size == (sprite["columns"] * sprite["tile"], sprite["rows"] * sprite["tile"])
    assert (out_dir / SPRITE).stat().st_size + (out_dir / TIMELINE_JSON).stat().st_size < 300_000


def test_class_probes_draw_each_row_from_its_own_class(one_thread):
    torch.manual_seed(0)
    model = PixelTransformer(PixelConfig(levels=4, n_layer=1, n_head=2, n_embd=32)).eval()
    together = sample_classes(model, [3, None, 7], temperature=0)
    alone = torch.cat([sample_pixels(model, label, temperature=0) for label in (3, None, 7)])
    assert together.dtype == torch.uint8 and torch.equal(together, alone)
    assert torch.equal(sample_classes(model, [1, 2], seed=4), sample_classes(model, [1, 2], seed=4))


def test_evaluating_switches_off_training_and_gradients_then_restores_the_mode():
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.5)).train()
    with evaluating(model):
        assert not model.training and not model(torch.ones(1, 2)).requires_grad
    assert model.training


def test_a_snapshot_request_reads_the_recorded_losses_and_what_the_model_made(family_run):
    family, out_dir, log, timeline = family_run
    snapshots = timeline["snapshots"]
    for index, snapshot in enumerate(snapshots):
        result = timeline_snapshot(TimelineRequest.build(family=family, snapshot=index + 1), out_dir)
        assert (result.snapshot, result.snapshots, result.step) == (index + 1, len(snapshots), snapshot["step"])
        assert result.train_loss == snapshot["train_loss"] and result.total_steps == log["steps_done"]
        if family == "text":
            assert result.text == snapshot["text"] and result.images is None
            assert (result.held_out, result.held_out_unit) == (snapshot["val_bits_per_char"], "bits per character")
        else:
            with Image.open(out_dir / SPRITE) as sprite:
                row = np.asarray(sprite)[index * 28:(index + 1) * 28]
            assert result.images.shape == (N_CLASSES, 28, 28) and result.text is None
            assert all(np.array_equal(result.images[j], row[:, j * 28:(j + 1) * 28]) for j in range(N_CLASSES))
    assert result.curve["step"] == [s["step"] for s in snapshots]
    past_the_end = timeline_snapshot(TimelineRequest.build(family=family, snapshot=1000), out_dir)
    assert past_the_end.snapshot == len(snapshots)
    assert json.loads(json.dumps(past_the_end.to_json()))["step"] == snapshots[-1]["step"]


@pytest.mark.parametrize("values", [{"family": "gan"}, {"snapshot": 0}, {"snapshot": "two"}, {"snapshot": 1.5},
                                    {"family": None}])
def test_a_bad_snapshot_request_gets_a_clear_message(values):
    with pytest.raises(RequestError):
        TimelineRequest.build(**values)


def test_a_model_without_a_timeline_says_how_to_record_one(tmp_path):
    with pytest.raises(RequestError, match="python -m genmodels.pixels.train"):
        timeline_snapshot(TimelineRequest.build(family="pixels"), tmp_path)


@pytest.mark.parametrize("family", FAMILIES)
def test_the_committed_timelines_match_their_training_logs(family):
    recorded = load_timeline(family)
    if recorded is None:  # the committed GPT was trained before timelines were recorded; the image models were not
        assert family == "text"
        pytest.skip("the committed GPT was trained before timelines were recorded")
    log, snapshots = recorded.train_log, recorded.content["snapshots"]
    steps = [s["step"] for s in snapshots]
    assert steps[0] == 0 and steps[-1] == log["steps_done"] and steps == sorted(set(steps))
    for snapshot in snapshots[1:]:
        first, last = snapshot["train_loss_steps"]
        logged = [loss for k, loss in zip(log["train"]["step"], log["train"]["loss"]) if first <= k <= last]
        assert snapshot["train_loss"] == pytest.approx(sum(logged) / len(logged), abs=1e-5)
    if recorded.sprite is not None:
        assert recorded.sprite.shape == (len(snapshots) * 28, len(probe_names(recorded.content)) * 28)
