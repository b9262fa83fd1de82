"""Time budgets for training: the learning-rate schedule runs over the steps or the seconds, whichever ends first."""
import random

import pytest
import torch

from genmodels import training
from genmodels.diffusion.captions import class_captions
from genmodels.diffusion.train import train as train_diffusion
from genmodels.pixels.train import train as train_pixels
from genmodels.text.tokenizer import END_OF_TEXT, train_tokenizer
from genmodels.text.train import train as train_text
from genmodels.training import TrainingClock, warmup_cosine
from tests.conftest import cpu_one_thread
from tests.test_diffusion_model import synthetic_fashion
from tests.test_train_tiny import make_play


class FakeTime:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def fake_time(monkeypatch):
    clock = FakeTime()
    monkeypatch.setattr(training.time, "perf_counter", clock)
    return clock


def test_without_a_budget_the_schedule_follows_the_steps(fake_time):
    clock = TrainingClock(steps=100)
    fake_time.now += 1e6
    assert [clock.schedule_step(s) for s in (0, 37, 100)] == [0, 37, 100]
    assert not clock.finished(99) and clock.finished(100)


def test_a_budget_moves_the_schedule_on_with_the_time_spent(fake_time):
    clock = TrainingClock(steps=100, max_seconds=60)
    assert clock.schedule_step(10) == 10  # no time spent yet: the steps lead
    fake_time.now += 30
    assert clock.schedule_step(10) == 50 and clock.schedule_step(70) == 70 and not clock.finished(10)
    fake_time.now += 30
    assert clock.schedule_step(10) == 100 and clock.finished(10)
    lr = warmup_cosine(clock.schedule_step(10), 100, peak=1e-3, floor=1e-4, warmup=5)
    assert lr == pytest.approx(1e-4)  # the run ends annealed, not at its peak rate


def test_image_trainers_stop_on_a_spent_budget_and_still_save(tmp_path):
    images, labels = synthetic_fashion()
    tokenizer = train_tokenizer([c for label in range(10) for c in class_captions(label)], vocab_size=320)
    with cpu_one_thread():
        pixels = train_pixels("tiny", tmp_path / "pixels", images=(images[:64], labels[:64]), max_seconds=1e-9)
        diffusion = train_diffusion("tiny", tmp_path / "diffusion", data=(images, labels), tokenizer=tokenizer,
                                    max_seconds=1e-9)
    assert pixels["steps_done"] == 0 and pixels["val"]["step"] == [0]
    assert (tmp_path / "pixels" / "pixel_transformer.safetensors").exists()
    assert diffusion["steps_done"] == 1 and diffusion["train"]["step"] == [1]
    assert (tmp_path / "diffusion" / "unet.safetensors").exists()
    assert torch.isfinite(torch.tensor(diffusion["train"]["loss"])).all()


def test_text_trainer_stops_on_a_spent_budget_and_keeps_its_checkpoint(tmp_path):
    rng = random.Random(1)
    (tmp_path / "train.txt").write_text(END_OF_TEXT + make_play(rng, 300))
    (tmp_path / "val.txt").write_text(END_OF_TEXT + make_play(rng, 100))
    with cpu_one_thread():
        log = train_text("tiny", tmp_path, tmp_path / "out", max_seconds=1e-9)
    assert log["steps_done"] == 0 and log["val"]["step"] == [0] and log["best_step"] == 0
    assert (tmp_path / "out" / "gpt.safetensors").exists()
