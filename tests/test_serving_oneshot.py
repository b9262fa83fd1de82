"""One-pass batching (the GAN): requests run together get what they get alone, and one bad request fails only itself."""
import threading
import time

import pytest
import torch

from genmodels.errors import RequestError
from genmodels.gan import requests as gan
from genmodels.serving import oneshot
from genmodels.serving.oneshot import Batcher


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


def test_batching_off_runs_each_request_directly():
    calls = []
    batcher = Batcher(lambda items: calls.append(items) or items, max_items=16)
    assert [batcher.submit("k", i, enabled=False) for i in (1, 2)] == [1, 2]
    assert calls == [[1], [2]] and batcher.worker is None


def test_a_wrong_number_of_results_fails_that_batch_and_the_worker_goes_on():
    batcher = Batcher(lambda items: items[:-1] if "short" in items else items, max_items=16)
    with pytest.raises(RuntimeError, match="returned 0 results"):
        batcher.submit("k", "short")
    assert batcher.submit("k", "fine") == "fine"


def test_a_caller_gives_up_with_a_message_instead_of_waiting_forever(monkeypatch):
    monkeypatch.setattr(oneshot, "RECORD_TIMEOUT_S", 0.2)
    batcher = Batcher(lambda items: time.sleep(2) or items, max_items=16)
    with pytest.raises(RequestError, match="too busy"):
        batcher.submit("k", 1)


def test_a_gan_batch_gives_each_request_its_own_grid(one_thread):
    requests = [gan.SampleRequest("healthy", seed, count) for seed, count in ((3, 4), (11, 2), (3, 1))]
    together = [result.to_json() for result in gan.sample_grids(requests)]
    for request, batched in zip(requests, together, strict=True):
        alone = gan.sample_grids([request])[0].to_json()
        assert len(batched["images"]) == request.count
        assert (torch.tensor(batched["images"]) - torch.tensor(alone["images"])).abs().max() <= 1  # gray levels
        assert [j["class"] for j in batched["judge"]] == [j["class"] for j in alone["judge"]]
    assert together[0]["images"][0] == together[2]["images"][0]  # image i depends only on (seed, i)
