"""Batching: requests sampled together get exactly what they get alone, and one bad request fails only itself."""
import threading
import time

import pytest
import torch

from genmodels import batching
from genmodels.batching import Batcher
from genmodels.diffusion import generate
from genmodels.diffusion.pretrained import load_diffusion_model
from genmodels.gan import requests as gan


def run_together(batcher: Batcher, submissions: list[tuple]) -> list:
    """Submit from one thread each, all at once; the results (or exceptions) in submission order."""
    results = [None] * len(submissions)

    def submit(i, key, item):
        try:
            results[i] = batcher.submit(key, item)
        except Exception as err:  # noqa: BLE001 - the test inspects it
            results[i] = err

    threads = [threading.Thread(target=submit, args=(i, *s)) for i, s in enumerate(submissions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_batching_is_on_unless_turned_off(monkeypatch):
    monkeypatch.delenv(batching.BATCHING_ENV, raising=False)
    assert batching.batching_enabled()
    monkeypatch.setenv(batching.BATCHING_ENV, "0")
    assert not batching.batching_enabled()


def test_waiting_requests_run_as_one_batch_and_each_gets_its_own_result():
    batches = []

    def run(items):
        batches.append(list(items))
        time.sleep(0.2)  # while this batch runs, the others queue up
        return [item * 10 for item in items]

    batcher = Batcher(run, max_items=16)
    results = run_together(batcher, [("k", i) for i in range(8)])
    assert results == [i * 10 for i in range(8)]
    assert max(len(b) for b in batches) > 1 and sum(len(b) for b in batches) == 8
    assert sum(size * n for size, n in batcher.batch_sizes.items()) == 8


def test_keys_split_batches_and_a_none_key_runs_alone():
    batches = []

    def run(items):
        batches.append(sorted(items))
        time.sleep(0.2)
        return items

    batcher = Batcher(run, max_items=16)
    run_together(batcher, [("a", 1), ("b", 2), ("a", 3), (None, 4), (None, 5), ("b", 6)])
    assert not any(set(b) & {1, 3} and set(b) & {2, 6} for b in batches)  # key a never meets key b
    assert [4] in batches and [5] in batches


def test_an_error_reaches_its_batch_only_and_the_worker_keeps_serving():
    def run(items):
        time.sleep(0.1)
        if "bad" in items:
            raise ValueError("bad batch")
        return items

    batcher = Batcher(run, max_items=16)
    results = run_together(batcher, [("bad", "bad"), ("good", "fine")])
    assert isinstance(results[0], ValueError) and results[1] == "fine"
    assert batcher.submit("good", "again") == "again"


def test_batching_off_runs_each_request_directly(monkeypatch):
    monkeypatch.setenv(batching.BATCHING_ENV, "0")
    calls = []
    batcher = Batcher(lambda items: calls.append(items) or items, max_items=16)
    assert run_together(batcher, [("k", 1), ("k", 2)]) == [1, 2]
    assert sorted(calls) == [[1], [2]] and batcher.worker is None


def test_a_diffusion_batch_gives_each_request_the_images_it_gets_alone(one_thread):
    dm = load_diffusion_model()
    requests = [generate.Settings(prompt=p, guidance=3.0, steps=5, seed=s, count=c)
                for p, s, c in (("a sneaker", 1, 2), ("an ankle boot", 7, 1), ("", 3, 3))]
    together = generate.sample_batched(dm, requests)
    for request, batched in zip(requests, together, strict=True):
        alone = generate.sample(dm, request, keep=0)
        assert batched.images.shape == alone.images.shape
        # a batch of 6 and a batch of 1 round differently in float32, and sampling carries it along: a few pixels
        # move by less than a gray level (1/127.5 in [-1, 1]); a mix-up of prompts or noise would move them all
        difference = (batched.images - alone.images).abs()
        assert difference.max() < 1 / 127.5 and difference.mean() < 1e-4
        assert batched.timesteps == alone.timesteps and batched.network_evaluations == alone.network_evaluations


def test_stochastic_settings_are_never_batched():
    assert generate.batch_key(generate.Settings(sampler="DDPM")) is None
    assert generate.batch_key(generate.Settings(sampler="DDIM", eta=0.5)) is None
    assert generate.batch_key(generate.Settings(guidance=3, steps=50)) == generate.batch_key(
        generate.Settings(prompt="a bag", guidance=3, steps=50, seed=9, count=2))
    with pytest.raises(ValueError):
        generate.sample_batched(load_diffusion_model(), [generate.Settings(sampler="DDPM"), generate.Settings()])


def test_a_gan_batch_gives_each_request_its_own_grid(one_thread):
    requests = [gan.SampleRequest("healthy", seed, count) for seed, count in ((3, 4), (11, 2), (3, 1))]
    together = [result.to_json() for result in gan.sample_grids(requests)]
    for request, batched in zip(requests, together, strict=True):
        alone = gan.sample_grids([request])[0].to_json()
        assert len(batched["images"]) == request.count
        assert (torch.tensor(batched["images"]) - torch.tensor(alone["images"])).abs().max() <= 1  # gray levels
        assert [j["class"] for j in batched["judge"]] == [j["class"] for j in alone["judge"]]
    assert together[0]["images"][0] == together[2]["images"][0]  # image i depends only on (seed, i)
