"""Request batching: requests that arrive while the model is busy run together, as one batch, on one worker thread.

Each caller blocks in `submit` until its own result (or its own exception) is ready, so a bad request never fails
the others. There is no waiting window: a lone request runs at once, and under load the next batch is whatever
arrived while the previous one ran. Requests whose key is None run alone.
"""
import importlib.util
import os
import queue
import threading
from collections import Counter
from collections.abc import Callable, Hashable
from concurrent.futures import Future

BATCHING_ENV = "GENMODELS_BATCHING"  # "0" turns batching off (each request runs alone, as the load test compares)


def batching_enabled() -> bool:
    """Whether requests are batched: on unless GENMODELS_BATCHING=0. On the 2-core CPU, 16 students sending diffuse
    back to back got 1.13-1.32x the throughput of unbatched requests (`python -m genmodels.tools.loadtest --batching`,
    an idle machine); a GPU, where a small model's step costs about the same for 1 image as for 64, gains more.
    Always off under ZeroGPU (the `spaces` package), which runs each request in its own GPU process, where requests
    cannot meet."""
    return os.environ.get(BATCHING_ENV, "1") != "0" and importlib.util.find_spec("spaces") is None


class Batcher:
    """Runs `run(items)` on groups of submitted items that share a key; `run` returns one result per item."""

    def __init__(self, run: Callable[[list], list], max_items: int):
        self.run, self.max_items = run, max_items
        self.pending: queue.Queue = queue.Queue()
        self.worker: threading.Thread | None = None
        self.start_lock = threading.Lock()
        self.batch_sizes: Counter = Counter()  # requests per batch -> how many batches held that many

    def submit(self, key: Hashable | None, item):
        """Queue `item` and wait for its result; raises what `run` raised for its batch."""
        if not batching_enabled():
            return self.run([item])[0]
        with self.start_lock:
            if self.worker is None:
                self.worker = threading.Thread(target=self.serve, name="batcher", daemon=True)
                self.worker.start()
        future: Future = Future()
        self.pending.put((key, item, future))
        return future.result()

    def next_groups(self) -> list[list[tuple]]:
        """Block for one request, take every other waiting one (up to max_items), and group them by key."""
        waiting = [self.pending.get()]
        while len(waiting) < self.max_items:
            try:
                waiting.append(self.pending.get_nowait())
            except queue.Empty:
                break
        groups: dict = {}
        for index, (key, item, future) in enumerate(waiting):
            groups.setdefault(("alone", index) if key is None else key, []).append((item, future))
        return list(groups.values())

    def serve(self) -> None:
        """The worker loop: run each group as one batch and hand every caller its own result."""
        while True:
            for group in self.next_groups():
                self.batch_sizes[len(group)] += 1
                try:
                    results = self.run([item for item, _ in group])
                except Exception as err:  # the group's callers each get it; the worker keeps serving
                    for _, future in group:
                        future.set_exception(err)
                    continue
                for (_, future), result in zip(group, results, strict=True):
                    future.set_result(result)
