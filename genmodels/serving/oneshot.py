"""One-pass batching for models that answer in one forward pass (the GAN's generator and discriminator): every
request waiting when the worker is free runs in one batch.

Each caller blocks in `submit` until its own result (or its own exception) is ready, so a bad request never fails
the others. There is no waiting window: a lone request runs at once, and under load the next batch is whatever
arrived while the previous one ran. Requests whose key is None run alone. A worker that dies is replaced on the next
submit, and a caller waits at most RECORD_TIMEOUT_S.
"""
import queue
import threading
from collections import Counter
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

from genmodels.errors import RequestError
from genmodels.serving.engine import RECORD_TIMEOUT_S


class Batcher:
    """Runs `run(items)` on groups of submitted items that share a key; `run` returns one result per item."""

    def __init__(self, run: Callable[[list], list], max_items: int):
        self.run, self.max_items = run, max_items
        self.pending: queue.Queue = queue.Queue()
        self.worker: threading.Thread | None = None
        self.start_lock = threading.Lock()
        self.batch_sizes: Counter = Counter()  # requests per batch -> how many batches held that many

    def submit(self, key: Hashable | None, item, enabled: bool = True):
        """Queue `item` and wait for its result; raises what `run` raised for its batch. Runs it alone when not
        `enabled`."""
        if not enabled:
            return self.run([item])[0]
        with self.start_lock:
            if self.worker is None or not self.worker.is_alive():
                self.worker = threading.Thread(target=self.serve, name="batcher", daemon=True)
                self.worker.start()
        future: Future = Future()
        self.pending.put((key, item, future))
        try:
            return future.result(timeout=RECORD_TIMEOUT_S)
        except FutureTimeout:
            raise RequestError("The server is too busy to answer in time: please try again in a moment.") from None

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
                    if len(results) != len(group):
                        raise RuntimeError(f"a batch of {len(group)} requests returned {len(results)} results")
                except Exception as err:  # the group's callers each get it; the worker keeps serving
                    for _, future in group:
                        future.set_exception(err)
                    continue
                for (_, future), result in zip(group, results):
                    future.set_result(result)
