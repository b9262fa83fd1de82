"""CUDA graphs for the small models' repeated calls: captured once, then each call is one graph launch.

The models here are small, so on a GPU an eager forward pass costs mostly kernel launches (hundreds of
them for a few microseconds of math each). A `StaticCall` records a function of tensors once on static
input buffers; each call copies the new inputs into those buffers, replays the recording and returns a
copy of its output. It is used on CUDA devices unless GENMODELS_CUDA_GRAPHS=0; everywhere else the
plain eager path runs. A capture that fails turns the fast path off for the process (with a warning)
and the plain path answers instead. `FAST_PATH.forced_static()` runs the same static-buffer path without
a graph, so tests on a CPU check everything but the recording itself.
"""
import importlib.util
import os
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

import torch

GRAPHS_ENV = "GENMODELS_CUDA_GRAPHS"
WARMUP_CALLS = 3  # eager calls on a side stream before capture, as torch.cuda.graphs asks
_capture_lock = threading.Lock()  # one capture at a time


def _graphs_allowed() -> bool:
    """GENMODELS_CUDA_GRAPHS, read when the switch is made: anything but 0 allows the fast path."""
    return os.environ.get(GRAPHS_ENV, "1").strip() != "0"


def _under_zerogpu() -> bool:
    """ZeroGPU (the `spaces` package) lends each request a GPU for that call only, so a recording made in one
    request cannot be counted on in the next."""
    return importlib.util.find_spec("spaces") is not None


@dataclass
class FastPath:
    """The process's switch for the static path; blocks and a failed capture change its fields, never the
    environment."""

    enabled_by_env: bool = field(default_factory=_graphs_allowed)
    zerogpu: bool = field(default_factory=_under_zerogpu)
    broken: bool = False  # a capture failed: off for the rest of the process
    forced: bool = False  # inside forced_static()
    plain_only: bool = False  # inside plain()

    def enabled(self, device: torch.device) -> bool:
        """Whether calls on `device` take the static path: CUDA with graphs allowed, or forced by a test."""
        if self.broken or self.plain_only or not self.enabled_by_env or self.zerogpu:
            return False
        return self.forced or device.type == "cuda"

    @contextmanager
    def forced_static(self):
        """Take the static-buffer path on any device (without a graph off CUDA) inside the block: for tests."""
        self.forced = True
        try:
            yield
        finally:
            self.forced = False

    @contextmanager
    def plain(self):
        """Run the plain eager path inside the block, as GENMODELS_CUDA_GRAPHS=0 does: for side-by-side figures."""
        self.plain_only = True
        try:
            yield
        finally:
            self.plain_only = False


FAST_PATH = FastPath()


class StaticCall:
    """fn(*inputs) -> tensor on fixed input buffers; on CUDA recorded as a graph and replayed per call.

    Not thread-safe: a caller holds it for the whole call (see GraphPool)."""

    def __init__(self, fn: Callable[..., torch.Tensor], *example_inputs: torch.Tensor):
        self.fn = fn
        self.inputs = [x.clone() for x in example_inputs]
        self.graph = None
        if self.inputs[0].device.type == "cuda":
            with _capture_lock:
                self.graph, self.output = _capture(fn, self.inputs)

    def __call__(self, *inputs: torch.Tensor) -> torch.Tensor:
        for static, x in zip(self.inputs, inputs):
            static.copy_(x)
        if self.graph is None:
            return self.fn(*self.inputs)
        self.graph.replay()
        return self.output.clone()


def _capture(fn, inputs):
    """Warm fn up on a side stream, then record one call of it as a CUDA graph: (graph, static output)."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(WARMUP_CALLS):
            fn(*inputs)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph, capture_error_mode="thread_local"):
        output = fn(*inputs)
    return graph, output


class GraphPool:
    """StaticCalls kept for reuse by key, each lent to one caller at a time; at most `limit` in all. When the pool is
    full, the item given back longest ago makes room for a new key; when every item is lent, the caller goes plain."""

    def __init__(self, limit: int = 16):
        self.limit = limit
        self.free: list[tuple[tuple, object]] = []  # (key, item), the longest unused first
        self.count = 0
        self.lock = threading.Lock()

    def lend(self, key: tuple, build: Callable[[], object]):
        """A free item for `key`, else a new one from build(); None when all are lent or building failed."""
        with self.lock:
            for index, (free_key, item) in enumerate(self.free):
                if free_key == key:
                    del self.free[index]
                    return item
            if self.count >= self.limit:
                if not self.free:
                    return None
                self.free.pop(0)  # dropped: its graph's memory goes with it
                self.count -= 1
            self.count += 1
        try:
            return build()
        except Exception as error:  # the plain path still answers; the fast path stays off from now on
            FAST_PATH.broken = True
            warnings.warn(f"CUDA graph capture failed, running without graphs: {error!r}", RuntimeWarning)
            with self.lock:
                self.count -= 1
            return None

    def give_back(self, key: tuple, item) -> None:
        """Return a lent item for the next caller."""
        with self.lock:
            self.free.append((key, item))

    @contextmanager
    def lent(self, key: tuple, build: Callable[[], object]):
        """lend() for the block, given back after it (None is yielded, and nothing kept, when none was lent)."""
        item = self.lend(key, build)
        try:
            yield item
        finally:
            if item is not None:
                self.give_back(key, item)
