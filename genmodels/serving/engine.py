"""Step-level batching: one batched step per tick over every active job (continuous batching).

A job is one request (its rows: images or sequences) with its own settings and its own seeded generator, so its
output does not depend on who shares its ticks. Jobs join between ticks while rows are free (`capacity`), leave the
moment they finish or their caller stops reading, and hand their step records to their caller through a queue.
A tick is two phases: `forward` runs the network once over every job's rows, then `advance` applies each job's own
sampling rule; a job whose `advance` raises fails alone, and when `forward` raises (out of memory, say) the job
with the most rows fails and the others step at the next tick.

There is no worker thread: a caller waiting for its next record runs ticks itself, for every job, unless another
caller is running them (for a turn of TURN_S while other callers wait, so they wake once per turn). A lone request
steps on its own thread as it would without the engine (torch's OpenMP threads belong to the thread that calls, and a
second thread made the same layers run slower), and under load whichever caller is free drives the ticks. A tick
that fails outside those two phases (a bug) fails every job it held with a clear message and leaves the engine empty
and serving; no caller waits forever, since each record has a deadline.
"""
import queue
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator

import torch

from genmodels.errors import RequestError
from genmodels.runtime import CORES

RECORD_TIMEOUT_S = 120.0  # a caller that waits this long for its next record gives up with a clear message
TURN_S = 0.1  # a caller that ticks for others keeps ticking this long (see Engine.drive)
FINISHED = object()  # the record after a job's last one
SHARED_TICK_ROWS = 8  # a CPU tick of at least this many rows from two or more jobs is split across the cores


def core_helpers(name: str) -> ThreadPoolExecutor:
    """Threads (one per core but the caller's, one torch thread each) that run the other parts of a split tick."""
    return ThreadPoolExecutor(max(1, CORES - 1), thread_name_prefix=name, initializer=torch.set_num_threads,
                              initargs=(1,))


def splits(rows: int) -> bool:
    """Whether a shared CPU tick of `rows` rows is split across the cores."""
    return rows >= SHARED_TICK_ROWS and CORES > 1


def row_parts(rows: int) -> list[slice]:
    """`rows` rows cut into one run of rows per core, in row order (as torch.chunk cuts them)."""
    size = -(-rows // CORES)
    return [slice(start, start + size) for start in range(0, rows, size)]


def runs_reading_alike(reach: list[int]) -> list[slice]:
    """Rows cut into at most one run per core, in row order, so that the runs read about as much: a run reads its
    rows times its furthest row's reach (every row attends as far as the furthest of its run). The least budget that
    greedy runs meet, found by bisection."""
    low, high = max(reach) + 1, len(reach) * (max(reach) + 1)
    while low < high:
        budget = (low + high) // 2
        if len(greedy_runs(reach, budget)) <= CORES:
            high = budget
        else:
            low = budget + 1
    return greedy_runs(reach, low)


def greedy_runs(reach: list[int], budget: int) -> list[slice]:
    """Runs of rows, each as long as its reads (rows x (furthest reach + 1)) stay within `budget`."""
    runs, start, furthest = [], 0, -1
    for row, far in enumerate(reach):
        if row > start and (row + 1 - start) * (max(furthest, far) + 1) > budget:
            runs.append(slice(start, row))
            start, furthest = row, -1
        furthest = max(furthest, far)
    return runs + [slice(start, len(reach))]


def each_on_a_core(helpers: ThreadPoolExecutor, run, parts: list[tuple]) -> list:
    """run(*part) for each part, the first on this thread and the others on `helpers`; the results in part order."""
    pending = [helpers.submit(run, *part) for part in parts[1:]]
    first = run(*parts[0])
    return [first, *[part.result() for part in pending]]


def on_every_core(helpers: ThreadPoolExecutor, run, parts: list[tuple]) -> torch.Tensor:
    """each_on_a_core's tensors joined in part order."""
    return torch.cat(each_on_a_core(helpers, run, parts))


class Job:
    """One request inside an engine: `rows` rows, its engine-specific state, and the queue its caller reads."""

    def __init__(self, rows: int, state: Any):
        self.rows, self.state = rows, state
        self.slots: list[int] = []  # the engine rows it holds, in the job's own row order
        self.records: queue.Queue = queue.Queue()
        self.cancelled = threading.Event()
        self.done = False
        self.submitted = time.monotonic()
        self.engine: "Engine | None" = None  # set by Engine.submit

    def emit(self, record) -> None:
        self.records.put(record)

    def finish(self) -> None:
        self.done = True
        self.records.put(FINISHED)

    def fail(self, error: BaseException) -> None:
        self.done = True
        self.records.put(error)

    def cancel(self) -> None:
        """The caller stopped reading: its rows are freed now, or by the tick in progress."""
        self.cancelled.set()
        if self.engine is not None:
            self.engine.withdraw()

    def next_record(self, timeout: float):
        """The job's next record, running ticks on this thread while no other caller runs one."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.records.get_nowait()
            except queue.Empty:
                pass
            if time.monotonic() > deadline:
                raise RequestError("The server is too busy to finish this request in time: please try again "
                                   "in a moment.")
            if not self.engine.drive(self):
                self.engine.wait_for_tick(self, deadline)

    def stream(self, timeout: float = RECORD_TIMEOUT_S) -> Iterator:
        """The job's records in order; raises what failed it; closing the iterator cancels the job."""
        try:
            while True:
                record = self.next_record(timeout)
                if record is FINISHED:
                    return
                if isinstance(record, BaseException):
                    raise record
                yield record
        finally:
            self.cancel()


class Engine:
    """The ticks and their bookkeeping; a subclass says how to start, step and release a job."""

    name = "engine"

    def __init__(self, capacity: int):
        self.capacity = capacity  # rows held by active jobs at most (one forward pass covers them all)
        self.waiting: deque[Job] = deque()
        self.active: list[Job] = []
        self.lock = threading.Condition()
        self.ticking = False  # a caller is running a tick (or tidying up); the others wait for it
        self.ticks = 0
        self.rows_per_tick: dict[int, int] = {}  # rows in a tick -> how many ticks held that many
        self.crashes = 0

    # --- what a subclass provides ---
    def start(self, job: Job) -> None:
        """Take the job's rows and prepare its state (a prompt's prefill, say); raising fails the job alone."""

    def forward(self, jobs: list[Job]) -> Any:
        """One batched network pass over the rows of `jobs`; their state changes only in `advance`."""
        raise NotImplementedError

    def advance(self, job: Job, outputs: Any) -> None:
        """Apply the job's own rule to its part of `outputs`, emit its record, finish it when it is done."""
        raise NotImplementedError

    def advance_jobs(self, jobs: list[Job], outputs: Any) -> None:
        """advance every job of the tick; one that raises fails alone (a subclass may first do what all share)."""
        for job in jobs:
            try:
                self.advance(job, outputs)
            except Exception as error:
                job.fail(error)

    def release(self, job: Job) -> None:
        """Give back the job's rows."""

    def reset(self) -> None:
        """Forget every row (after a tick crashed)."""

    # --- the ticks ---
    def submit(self, job: Job) -> Job:
        """Queue a job; its caller reads `job.stream()`, which runs ticks."""
        if job.rows > self.capacity:
            raise RequestError(f"This request needs {job.rows} rows; the server runs at most {self.capacity} at once.")
        job.engine = self
        with self.lock:
            self.waiting.append(job)
        return job

    def rows_in_use(self) -> int:
        return sum(job.rows for job in self.active)

    def take_turn(self) -> bool:
        """Whether this caller may tick now (no other caller is ticking); if so, the others wait until end_turn."""
        with self.lock:
            if self.ticking:
                return False
            self.ticking = True
            return True

    def end_turn(self) -> None:
        with self.lock:
            self.ticking = False
            self.lock.notify_all()

    def wait_for_tick(self, job: Job, deadline: float) -> None:
        """Sleep until the tick in progress ends, unless `job` already has a record or none is in progress."""
        with self.lock:
            if self.ticking and job.records.empty():
                self.lock.wait(timeout=max(0.0, deadline - time.monotonic()))

    def drive(self, caller: Job) -> bool:
        """Run ticks on this thread unless another caller is running one; whether it ran. One tick while the
        caller's job is the only one (a lone request steps as it would alone), else ticks for TURN_S: the others
        sleep meanwhile instead of waking after every tick to fight over Python's lock with the ticking thread."""
        if not self.take_turn():
            return False
        try:
            turn_ends = time.monotonic() + TURN_S
            while True:
                self.tidy()
                self.admit()
                self.tick()
                self.leave_finished()
                if all(job is caller for job in self.active) or time.monotonic() > turn_ends:
                    break
        except BaseException as error:  # a bug outside forward and advance: nobody's rows can be trusted
            self.crash(error)
            if not isinstance(error, Exception):
                raise
        finally:
            self.end_turn()
        return True

    def withdraw(self) -> None:
        """Free the rows of stopped jobs now, unless a tick in progress will."""
        if self.take_turn():
            try:
                self.tidy()
            finally:
                self.end_turn()

    def crash(self, error: BaseException) -> None:
        """Fail every job with a clear message and start again from empty rows."""
        with self.lock:
            for job in [*self.active, *self.waiting]:
                job.fail(RequestError(f"The {self.name} engine stopped ({error!r}); please try again."))
            self.active.clear()
            self.waiting.clear()
        self.reset()
        self.crashes += 1

    def admit(self) -> None:
        """Start waiting jobs in arrival order while their rows fit; the oldest is never overtaken for long."""
        with self.lock:
            joining = []
            free = self.capacity - self.rows_in_use()
            for job in list(self.waiting):
                if job.rows <= free:
                    self.waiting.remove(job)
                    joining.append(job)
                    free -= job.rows
                elif job is self.waiting[0] and time.monotonic() - job.submitted > 2.0:
                    break  # the oldest has waited long enough: later, smaller jobs wait behind it
        self.start_jobs(joining)

    def start_jobs(self, jobs: list[Job]) -> None:
        """start each joining job and make it active; one that raises fails alone."""
        for job in jobs:
            try:
                self.start(job)
                self.active.append(job)
            except Exception as error:
                self.release(job)
                job.fail(error)

    def drop_stopped(self) -> None:
        """Fail the jobs whose callers stopped reading, waiting or active."""
        if self.waiting:
            with self.lock:
                for job in [j for j in self.waiting if j.cancelled.is_set()]:
                    self.waiting.remove(job)
                    job.fail(RequestError("Stopped."))
        for job in [j for j in self.active if j.cancelled.is_set() and not j.done]:
            job.fail(RequestError("Stopped."))

    def tidy(self) -> None:
        """Fail the jobs whose callers stopped reading and free the rows of every job that is done."""
        self.drop_stopped()
        self.leave_finished()

    def leave_finished(self) -> None:
        """Free the rows of every job that finished or failed."""
        for job in [j for j in self.active if j.done]:
            self.active.remove(job)
            self.release(job)

    def tick(self) -> None:
        """One batched step for every active job (drive tidies up before it and lets finished jobs leave after)."""
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
        self.advance_jobs(jobs, outputs)
