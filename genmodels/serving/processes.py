"""Worker processes for the live trainings: the 2-D lab's and the live 2-D GAN's steps, which no engine can share.

Their small networks spend most of a step in Python, under the server's one interpreter lock, so in the server they
held up every engine's tick and left a core idle under a classroom's load. `stream(function, *args)` runs a generator
function in a worker process instead and yields its items here as they come: the function and its arguments are
pickled there, and each item (the session's updated run with a snapshot) is pickled back, so a session's run still
lives in its gr.State. A worker takes turns among its calls, one item each, and computes at most PREFETCH items
ahead of the caller. Closing the stream stops its call there; a worker that dies fails its calls with a clear
message and is started again for the next. With batching off (GENMODELS_BATCHING=0) or under ZeroGPU, the function
runs here, as before.
"""
import atexit
import copyreg
import io
import itertools
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from multiprocessing.connection import Connection

import torch

from genmodels.errors import RequestError
from genmodels.paths import ROOT
from genmodels.serving import batching_enabled

WORKERS = 1  # processes; each takes turns among its calls, so one core's worth of trainings at most
PREFETCH = 2  # items a worker computes ahead of its caller (one drawn while the next trains)
ITEM_SECONDS = 300  # the longest a caller waits for one item before it gives up on the worker
WORKER_MAIN = "import sys; from genmodels.serving.processes import serve; serve(int(sys.argv[1]), int(sys.argv[2]))"
NOTHING = object()  # `paced` holds no item back
REDRAW_SECONDS = 0.5  # the least time between two items `paced` hands a page, after it drew the last
STOPPED = "The training worker stopped unexpectedly; it starts again with your next click."


def _send(connection: Connection, message: tuple) -> None:
    """Plain pickles: Connection.send's would hand tensors over as shared-memory file descriptors."""
    connection.send_bytes(_pickled(message))


def _pickled(value) -> bytes:
    """`value` pickled with its CPU tensors as NumPy arrays (a lab's update is megabytes of weights and Adam state):
    torch's own reduction writes each storage through torch.save, many times slower both ways, and the server
    unpickles holding Python's lock (docs/performance.md)."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    # looked up by exact type: a Parameter reduces itself, and its data, a plain tensor, comes here
    pickler.dispatch_table = copyreg.dispatch_table | {torch.Tensor: _tensor_as_array}
    pickler.dump(value)
    return buffer.getvalue()


def _tensor_as_array(tensor: torch.Tensor) -> tuple:
    """A plain CPU tensor's reduction through NumPy; any other (bfloat16, on a GPU) is reduced torch's own way."""
    try:
        array = tensor.detach().numpy()
    except (TypeError, RuntimeError):
        return tensor.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
    return _tensor_from_array, (array, tensor.requires_grad)


def _tensor_from_array(array, requires_grad: bool) -> torch.Tensor:
    return torch.from_numpy(array.copy()).requires_grad_(requires_grad)  # a copy: an unpickled array is read-only


def _items(payload: bytes) -> Iterator:
    """The items of function(*args), unpickled from `payload` here so that any error is the call's own."""
    function, args = pickle.loads(payload)
    yield from function(*args)


def serve(inbox: int, outbox: int) -> None:
    """A worker's loop on two pipe ends: start, continue and stop calls as the server asks, one item of each in turn."""
    torch.set_num_threads(1)
    requests, connection = Connection(inbox, writable=False), Connection(outbox, readable=False)
    calls: dict[int, list] = {}  # call id -> [generator, items it may still compute]
    while True:
        busy = any(credit for _, credit in calls.values())
        while requests.poll(0 if busy else None):
            try:
                kind, call_id, payload = pickle.loads(requests.recv_bytes())
            except EOFError:  # the server is gone
                return
            if kind == "start":
                calls[call_id] = [_items(payload), PREFETCH]
            elif kind == "more" and call_id in calls:
                calls[call_id][1] += 1
            elif kind == "stop" and call_id in calls:
                calls.pop(call_id)[0].close()
            busy = any(credit for _, credit in calls.values())
        for call_id, call in list(calls.items()):
            if call[1]:
                connection.send_bytes(_advance(calls, call_id))


def _advance(calls: dict, call_id: int) -> bytes:
    """The call's next item as the message that carries it; its end or its error ends the call."""
    generator, _ = calls[call_id]
    try:
        message = _pickled((call_id, "item", next(generator)))
    except StopIteration:
        calls.pop(call_id)
        return _pickled((call_id, "done", None))
    except (RequestError, torch.OutOfMemoryError) as err:  # the server answers these as it would its own
        calls.pop(call_id)
        return _pickled((call_id, "error", err))
    except Exception as err:  # noqa: BLE001 - reported to the one caller; the worker serves on
        traceback.print_exc()
        calls.pop(call_id)
        return _pickled((call_id, "error", RuntimeError(f"{type(err).__name__}: {err}")))
    calls[call_id][1] -= 1
    return message


class Worker:
    """One worker process, and the thread that hands its answers to the waiting calls."""

    def __init__(self):
        # A fresh interpreter, not multiprocessing's spawn: that would import the server's main module (and Gradio)
        # again, and a fork would copy the server's threads and locks.
        inbox, requests = os.pipe()
        answers, outbox = os.pipe()
        self.process = subprocess.Popen([sys.executable, "-c", WORKER_MAIN, str(inbox), str(outbox)], cwd=ROOT,
                                        pass_fds=(inbox, outbox))
        os.close(inbox)
        os.close(outbox)
        self.requests, self.connection = Connection(requests, readable=False), Connection(answers, writable=False)
        self.calls: dict[int, queue.Queue] = {}
        self.send_lock = threading.Lock()
        self.alive = True
        threading.Thread(target=self._read, daemon=True, name="genmodels-worker-reader").start()

    def send(self, kind: str, call_id: int, payload=None) -> None:
        with self.send_lock:
            _send(self.requests, (kind, call_id, payload))

    def _read(self) -> None:
        try:
            while True:
                call_id, kind, value = pickle.loads(self.connection.recv_bytes())
                if call_id in self.calls:
                    self.calls[call_id].put((kind, value))
        except (EOFError, OSError):
            pass
        self.alive = False
        for answers in list(self.calls.values()):
            answers.put(("error", RequestError(STOPPED)))

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        self.requests.close()


class Pool:
    """WORKERS worker processes, started on first use; each call goes to the one with the fewest calls."""

    def __init__(self, size: int = WORKERS):
        self.size, self.workers, self.lock, self.ids = size, [], threading.Lock(), itertools.count()

    def worker(self) -> Worker:
        """The least busy living worker, replacing dead ones."""
        with self.lock:
            for worker in [w for w in self.workers if not w.alive]:
                self.workers.remove(worker)
                worker.close()
            while len(self.workers) < self.size:
                self.workers.append(Worker())
            return min(self.workers, key=lambda w: len(w.calls))

    def stream(self, function, *args) -> Iterator:
        """function(*args)'s items, computed in a worker; closing this stops the call there."""
        worker, call_id, answers = self.worker(), next(self.ids), queue.Queue()
        worker.calls[call_id] = answers
        ended = False
        try:
            worker.send("start", call_id, _pickled((function, args)))
            while True:
                try:
                    kind, value = answers.get(timeout=ITEM_SECONDS)
                except queue.Empty:
                    raise RequestError(STOPPED) from None
                if kind != "item":
                    ended = True
                    if kind == "error":
                        raise value
                    return
                worker.send("more", call_id)
                yield value
        except OSError:  # the pipe broke: the worker died while we sent
            ended = True
            raise RequestError(STOPPED) from None
        finally:
            worker.calls.pop(call_id, None)
            if not ended and worker.alive:
                try:
                    worker.send("stop", call_id)
                except OSError:
                    pass

    def close(self) -> None:
        with self.lock:
            for worker in self.workers:
                worker.close()
            self.workers.clear()


_pool = Pool()
atexit.register(_pool.close)


def stream(function, *args) -> Iterator:
    """function(*args)'s items: from a worker process when batching is on, else computed here."""
    if not batching_enabled():
        return function(*args)
    return _pool.stream(function, *args)


def paced(items: Iterator, seconds: float = REDRAW_SECONDS) -> Iterator:
    """items, the next only once `seconds` have passed since the caller took the last, and always the final one: a page
    draws what a browser can show instead of every snapshot a fast worker makes, so a phone keeps up and Pause is
    prompt; the items passed over are never drawn. Closing this closes `items`."""
    taken, waiting = -float("inf"), NOTHING
    try:
        for item in items:
            if time.monotonic() - taken < seconds:
                waiting = item
                continue
            yield item
            taken, waiting = time.monotonic(), NOTHING
        if waiting is not NOTHING:
            yield waiting
    finally:
        if hasattr(items, "close"):
            items.close()
