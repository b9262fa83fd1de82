"""Device choice, seeded generators and the timer."""
import time

import pytest
import torch

from genmodels import runtime
from genmodels.runtime import DEVICE_ENV, make_generator, pick_device, timer


def test_env_override_picks_cpu_even_when_cuda_is_available(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv(DEVICE_ENV, "cpu")
    assert pick_device() == torch.device("cpu")
    monkeypatch.setenv(DEVICE_ENV, "  cpu \n")
    assert pick_device() == torch.device("cpu")


def test_env_override_is_passed_through(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv(DEVICE_ENV, "cuda:1")
    assert pick_device() == torch.device("cuda", 1)


def test_preference_order_without_override(monkeypatch):
    monkeypatch.delenv(DEVICE_ENV, raising=False)
    monkeypatch.setenv(DEVICE_ENV, "")  # empty counts as unset
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device().type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert pick_device().type == "mps"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert pick_device() == torch.device("cpu")


def test_make_generator_is_reproducible():
    a = torch.randn(100, generator=make_generator(42))
    b = torch.randn(100, generator=make_generator(42))
    c = torch.randn(100, generator=make_generator(43))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert make_generator(7).device == torch.device("cpu")
    assert torch.equal(torch.randint(0, 10**6, (5,), generator=make_generator("7")),
                       torch.randint(0, 10**6, (5,), generator=make_generator(7)))


def test_make_generator_is_independent_of_the_global_seed():
    torch.manual_seed(0)
    a = torch.rand(10, generator=make_generator(5))
    torch.manual_seed(1)
    torch.rand(3)
    assert torch.equal(a, torch.rand(10, generator=make_generator(5)))


def test_timer_measures_a_sleep():
    with timer() as timing:
        assert timing.seconds == 0.0  # filled in on exit
        time.sleep(0.05)
    assert 0.045 <= timing.seconds < 0.5
    assert timing.milliseconds == pytest.approx(timing.seconds * 1000)


def test_timer_fills_in_even_when_the_block_raises():
    with pytest.raises(RuntimeError):
        with timer() as timing:
            time.sleep(0.02)
            raise RuntimeError("boom")
    assert timing.seconds >= 0.015


def test_timer_synchronizes_the_device_before_and_after(monkeypatch):
    calls = []
    monkeypatch.setattr(runtime, "synchronize", lambda device: calls.append(device))
    device = torch.device("cpu")
    with timer(device):
        assert len(calls) == 1
    assert calls == [device, device]
    calls.clear()
    with timer():
        pass
    assert calls == []
