"""Each browser session's own-text model: one training at a time per session, a few at once per process, and the
model dropped once the session is idle for IDLE_SECONDS.

The UI keeps one OwnTextSession per browser session in gr.State, whose initial value is deep-copied: a new session
holds no lock, slots or model, so it copies. The lock and the slots are module-wide for that reason too.
"""
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from genmodels.errors import RequestError
from genmodels.owntext.corpus import Corpus
from genmodels.owntext.trainer import Snapshot, Trainer

MAX_TRAININGS = 2  # at once in the process: each keeps a CPU core busy for its whole run
IDLE_SECONDS = 30 * 60  # a model unused this long is dropped (a few MB each, held for as long as the tab is open)

LOCK = threading.Lock()  # guards every session's `running` flag and every slots' count: both are a moment's work
SESSIONS = weakref.WeakSet()  # sessions that have held a model, for drop_idle; a closed tab's session goes by itself


class TrainingSlots:
    """At most `capacity` trainings at once; a training that finds them full is refused at once, not queued."""

    def __init__(self, capacity: int = MAX_TRAININGS):
        self.capacity, self.running = capacity, 0

    @contextmanager
    def held(self):
        """Hold a slot for the block, or raise a RequestError when every slot is taken."""
        with LOCK:
            if self.running >= self.capacity:
                raise RequestError(f"The server is training {self.running} other texts; try again in a moment.")
            self.running += 1
        try:
            yield
        finally:
            with LOCK:
                self.running -= 1


SLOTS = TrainingSlots()


class OwnTextSession:
    """One browser session's trainer (None before its first training or once dropped) and when it was last used."""

    def __init__(self):
        self.trainer: Trainer | None = None
        self.running = False
        self.dropped = False  # drop_idle took the model: the next request says so
        self.last_used = time.monotonic()

    def train(self, corpus: Corpus, seconds: float, seed: int, max_steps: int | None = None,
              slots: TrainingSlots = SLOTS) -> Iterator[Snapshot]:
        """A new model trained on `corpus` (Trainer.train's snapshots); refused while this session trains or when
        `slots` are full. Closing the generator ends the training and frees its slot."""
        with LOCK:
            if self.running:
                raise RequestError("A training is already running in this session: wait for it to finish or stop "
                                   "it first.")
            self.running = True
        try:
            drop_idle()
            with slots.held():
                self.trainer, self.dropped = Trainer(corpus, seed), False
                SESSIONS.add(self)
                yield from self.trainer.train(seconds, max_steps)
        finally:
            self.last_used = time.monotonic()
            with LOCK:
                self.running = False

    def stop(self) -> None:
        """End the running training after its current step (its last snapshot still comes)."""
        if self.trainer is not None:
            self.trainer.stop()

    def model(self) -> Trainer:
        """The trained model, marked used now; a RequestError while it trains, before it exists, or once dropped."""
        if self.running:
            raise RequestError("Your model is still training: wait for it to finish or stop it first.")
        if self.trainer is None:
            raise RequestError(f"Your model was dropped after {IDLE_SECONDS // 60} minutes unused: train it again."
                               if self.dropped else "Train a model on your text first.")
        self.last_used = time.monotonic()
        return self.trainer

    def drop(self) -> None:
        """Let the model go (its memory with it); the session can train again."""
        self.trainer, self.dropped = None, True


def drop_idle(now: float | None = None, idle_seconds: float = IDLE_SECONDS) -> int:
    """Drop the model of every session unused for `idle_seconds` (time.monotonic() clock); how many were dropped."""
    now = time.monotonic() if now is None else now
    idle = [s for s in list(SESSIONS) if s.trainer is not None and not s.running and now - s.last_used > idle_seconds]
    for session in idle:
        session.drop()
    return len(idle)
