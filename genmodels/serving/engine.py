"""Step-level batching: one worker runs one batched step per tick over every active job (continuous batching).

A job is one request (its rows: images or sequences) with its own settings and its own seeded generator, so its
output does not depend on who shares its ticks. Jobs join between ticks while rows are free (`capacity`), leave the
moment they finish or their caller stops reading, and hand their step records to their caller through a queue.
A tick is two phases: `forward` runs the network once over every job's rows, then `advance` applies each job's own
sampling rule; a job whose `advance` raises fails alone, and when `forward` raises (out of memory, say) the job
with the most rows fails and the others step at the next tick. A worker that dies is replaced on the next submit, and no caller waits forever: each
record has a deadline, and a dead worker's jobs are told so.
"""
import queue
import threading
import time
from collections import deque
from typing import Any, Iterator

from genmodels.errors import RequestError

RECORD_TIMEOUT_S = 120.0  # a caller that waits this long for its next record gives up with a clear message
FINISHED = object()  # the record after a job's last one


class Job:
    """One request inside an engine: `rows` rows, its engine-specific state, and the queue its caller reads."""

    def __init__(self, rows: int, state: Any):
        self.rows, self.state = rows, state
        self.slots: list[int] = []  # the engine rows it holds, in the job's own row order
        self.records: queue.Queue = queue.Queue()
        self.cancelled = threading.Event()
        self.done = False
        self.submitted = time.monotonic()

    def emit(self, record) -> None:
        self.records.put(record)

    def finish(self) -> None:
        self.done = True
        self.records.put(FINISHED)

    def fail(self, error: BaseException) -> None:
        self.done = True
        self.records.put(error)

    def cancel(self) -> None:
        """The caller stopped reading: the worker frees the job's rows before its next tick."""
        self.cancelled.set()

    def stream(self, timeout: float = RECORD_TIMEOUT_S) -> Iterator:
        """The job's records in order; raises what failed it; closing the iterator cancels the job."""
        try:
            while True:
                try:
                    record = self.records.get(timeout=timeout)
                except queue.Empty:
                    raise RequestError("The server is too busy to finish this request in time: please try again "
                                       "in a moment.") from None
                if record is FINISHED:
                    return
                if isinstance(record, BaseException):
                    raise record
                yield record
        finally:
            self.cancel()


class Engine:
    """The worker and its bookkeeping; a subclass says how to start, step and release a job."""

    name = "engine"

    def __init__(self, capacity: int):
        self.capacity = capacity  # rows held by active jobs at most (one forward pass covers them all)
        self.waiting: deque[Job] = deque()
        self.active: list[Job] = []
        self.lock = threading.Condition()
        self.worker: threading.Thread | None = None
        self.ticks = 0
        self.rows_per_tick: dict[int, int] = {}  # rows in a tick -> how many ticks held that many
        self.restarts = 0
        self.stopping = False
        self.crashed = False  # the last worker died: the next one starts from a reset

    # --- what a subclass provides ---
    def start(self, job: Job) -> None:
        """Take the job's rows and prepare its state (a prompt's prefill, say); raising fails the job alone."""

    def forward(self, jobs: list[Job]) -> Any:
        """One batched network pass over the rows of `jobs`; their state changes only in `advance`."""
        raise NotImplementedError

    def advance(self, job: Job, outputs: Any) -> None:
        """Apply the job's own rule to its part of `outputs`, emit its record, finish it when it is done."""
        raise NotImplementedError

    def release(self, job: Job) -> None:
        """Give back the job's rows."""

    def reset(self) -> None:
        """Forget every row (after a worker died)."""

    # --- the worker ---
    def submit(self, job: Job) -> Job:
        """Queue a job; its caller reads `job.stream()`."""
        if job.rows > self.capacity:
            raise RequestError(f"This request needs {job.rows} rows; the server runs at most {self.capacity} at once.")
        with self.lock:
            if self.worker is None or not self.worker.is_alive():
                if self.crashed:
                    self.restarts += 1
                    self.reset()
                    self.crashed = False
                self.worker = threading.Thread(target=self.serve, name=f"{self.name}-engine", daemon=True)
                self.worker.start()
            self.waiting.append(job)
            self.lock.notify()
        return job

    def rows_in_use(self) -> int:
        return sum(job.rows for job in self.active)

    def admit(self) -> None:
        """Start waiting jobs in arrival order while their rows fit; the oldest is never overtaken for long."""
        with self.lock:
            while not self.active and not self.waiting and not self.stopping:
                self.lock.wait()
            joining = []
            free = self.capacity - self.rows_in_use()
            for job in list(self.waiting):
                if job.cancelled.is_set():
                    self.waiting.remove(job)
                    job.fail(RequestError("Stopped."))
                elif job.rows <= free:
                    self.waiting.remove(job)
                    joining.append(job)
                    free -= job.rows
                elif job is self.waiting[0] and time.monotonic() - job.submitted > 2.0:
                    break  # the oldest has waited long enough: later, smaller jobs wait behind it
        for job in joining:
            try:
                self.start(job)
                self.active.append(job)
            except Exception as error:
                self.release(job)
                job.fail(error)

    def leave_finished(self) -> None:
        """Free the rows of every job that finished or failed."""
        for job in [j for j in self.active if j.done]:
            self.active.remove(job)
            self.release(job)

    def tick(self) -> None:
        """Drop stopped jobs, run one batched step for the rest, and let finished jobs leave."""
        for job in [j for j in self.active if j.cancelled.is_set() and not j.done]:
            job.fail(RequestError("Stopped."))
        self.leave_finished()
        if not self.active:
            return
        jobs = list(self.active)
        rows = sum(job.rows for job in jobs)
        self.rows_per_tick[rows] = self.rows_per_tick.get(rows, 0) + 1
        self.ticks += 1
        try:
            outputs = self.forward(jobs)
        except Exception as error:  # out of memory, say: the largest job fails, the others step next tick
            largest = max(reversed(jobs), key=lambda job: job.rows)
            largest.fail(error)
            return
        for job in jobs:
            try:
                self.advance(job, outputs)
            except Exception as error:
                job.fail(error)

    def stop(self) -> None:
        """End the worker after its tick (at exit: a worker inside a torch call when the process ends aborts it)."""
        with self.lock:
            self.stopping = True
            self.lock.notify()
            worker = self.worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout=5)

    def serve(self) -> None:
        """The worker loop; anything that escapes it fails every job it held, and the next submit starts another."""
        try:
            while not self.stopping:
                self.admit()
                self.tick()
                self.leave_finished()
        except BaseException as error:
            with self.lock:  # from here on a submit starts a new worker instead of queueing for this one
                for job in [*self.active, *self.waiting]:
                    job.fail(RequestError(f"The {self.name} engine stopped ({error!r}); please try again."))
                self.active.clear()
                self.waiting.clear()
                self.worker, self.crashed = None, True
            raise
