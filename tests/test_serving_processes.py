"""The worker processes behind the live trainings: same runs as here, items as they come, turns, stops and crashes."""
import itertools
import os
import pickle
import threading
import time

import pytest
import torch

from genmodels import serving
from genmodels.errors import RequestError
from genmodels.gan.toy_requests import ToyStepRequest, train_toy
from genmodels.lab.requests import LabStepRequest, parse_points, train_lab
from genmodels.serving import processes

TIMINGS = ("train_seconds", "steps_per_second", "seconds_to_cover")  # wall-clock figures differ run to run


def without_timings(value):
    if isinstance(value, dict):
        return {key: without_timings(v) for key, v in value.items() if key not in TIMINGS}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def trained(train, build, batching: bool) -> list[dict]:
    """Two calls on one session's run, every snapshot as JSON, with batching on (a worker) or off (here)."""
    def run():
        state, snapshots = None, []
        for steps in (100, 60):
            for update in processes.stream(train, state, build(steps)):
                state = update.lab if hasattr(update, "lab") else update.run
                snapshots.append(without_timings(update.snapshot.to_dict()))
        return snapshots
    return serving.with_batching(batching, run)


@pytest.mark.parametrize("train, build", [
    (train_lab, lambda steps: LabStepRequest.build(steps=steps, dataset="grid", seed=5)),
    (train_toy, lambda steps: ToyStepRequest.build(steps=steps, seed=3)),
], ids=["lab", "toy-gan"])
def test_a_run_trained_in_a_worker_is_the_run_trained_here(one_thread, train, build):
    here, there = trained(train, build, False), trained(train, build, True)
    assert len(here) == len(there) == 4  # a redraw every 50 steps, the last with the speed figure
    assert here == there


def test_a_pickled_message_keeps_its_tensors_and_their_sharing():
    """Tensors go through NumPy and come back equal, writable and with their requires_grad; a Parameter shared by a
    module and its optimizer is still one object; what NumPy cannot hold (bfloat16) goes torch's own way."""
    net = torch.nn.Linear(3, 2)
    optimizer = torch.optim.Adam(net.parameters(), fused=True)
    net(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    leaf = torch.randn(5, requires_grad=True)
    view = torch.arange(12.0).view(3, 4).t()  # not contiguous
    half = torch.randn(3).bfloat16()
    message = {"net": net, "optimizer": optimizer, "leaf": leaf, "view": view, "half": half}
    back = pickle.loads(processes._pickled(message))
    assert back["optimizer"].param_groups[0]["params"][0] is back["net"].weight
    assert torch.equal(back["optimizer"].state[back["net"].weight]["exp_avg"], optimizer.state[net.weight]["exp_avg"])
    assert torch.equal(back["leaf"], leaf) and back["leaf"].requires_grad and back["leaf"].is_leaf
    assert torch.equal(back["view"], view) and torch.equal(back["half"], half)
    back["view"].add_(1)  # an unpickled NumPy buffer is read-only: the tensor must own a writable copy
    assert torch.equal(back["view"], view + 1)


def test_batching_off_runs_the_call_here_and_on_runs_it_in_a_worker():
    def pids() -> list[int]:
        return list(processes.stream(itertools.starmap, os.getpid, [()]))
    assert serving.with_batching(False, pids) == [os.getpid()]
    assert serving.with_batching(True, pids) != [os.getpid()]


def test_items_come_in_order_and_the_stream_ends():
    assert list(processes._pool.stream(iter, list(range(7)))) == list(range(7))


def test_a_request_error_reaches_the_caller_as_it_is_and_the_worker_serves_on():
    with pytest.raises(RequestError, match="x,y pairs"):
        list(processes._pool.stream(map, parse_points, ["1,2,3"]))
    assert list(processes._pool.stream(iter, [1, 2])) == [1, 2]


def test_an_unexpected_error_is_the_one_call_s_and_the_worker_serves_on():
    with pytest.raises(RuntimeError, match="TypeError"):
        list(processes._pool.stream(iter, 5))  # an int is not iterable: fails inside the worker
    assert list(processes._pool.stream(iter, [3])) == [3]


def test_calls_take_turns_one_item_each():
    arrivals, lock = [], threading.Lock()

    def read(name: str, items: int) -> None:
        for _ in processes._pool.stream(itertools.starmap, time.sleep, [(0.05,)] * items):
            with lock:
                arrivals.append(name)

    first = threading.Thread(target=read, args=("long", 40))
    first.start()
    time.sleep(0.3)  # the long call is under way
    read("short", 3)
    first.join()
    assert arrivals.count("short") == 3
    assert arrivals[-1] == "long"  # the short call finished while the long one still ran


def test_a_stopped_stream_frees_its_call_and_the_worker_serves_on():
    worker = processes._pool.worker()
    stream = processes._pool.stream(itertools.starmap, time.sleep, [(0.05,)] * 1000)
    next(stream)
    stream.close()
    assert not worker.calls
    started = time.monotonic()
    assert list(processes._pool.stream(iter, ["after"])) == ["after"]
    assert time.monotonic() - started < 5  # not behind the stopped call's 50 s of items
    assert processes._pool.worker() is worker


def test_a_worker_that_dies_fails_its_call_with_a_clear_message_and_a_new_one_serves_the_next():
    stream = processes._pool.stream(itertools.starmap, time.sleep, [(0.05,)] * 1000)
    next(stream)
    dead = processes._pool.worker()
    dead.process.kill()
    with pytest.raises(RequestError, match="stopped unexpectedly"):
        list(stream)
    assert list(processes._pool.stream(iter, ["again"])) == ["again"]
    assert processes._pool.worker() is not dead


def test_paced_hands_out_the_first_item_then_one_per_interval_and_always_the_last():
    def every_10_ms(count: int):
        for item in range(count):
            time.sleep(0.01)
            yield item
    taken = [(item, time.monotonic()) for item in processes.paced(every_10_ms(50), seconds=0.1)]
    items, times = [item for item, _ in taken], [at for _, at in taken]
    assert items[0] == 0 and items[-1] == 49  # the first at once, the last always
    assert items == sorted(set(items)) and len(items) < 50  # in order, and some passed over
    assert all(later - earlier >= 0.1 for earlier, later in zip(times[:-2], times[1:-1]))  # spaced but the last
    assert list(processes.paced(iter([7]), seconds=10)) == [7]


def test_closing_a_paced_stream_stops_its_call_in_the_worker():
    worker = processes._pool.worker()
    stream = processes.paced(processes._pool.stream(itertools.starmap, time.sleep, [(0.05,)] * 1000), seconds=0.2)
    next(stream)
    stream.close()
    assert not worker.calls
