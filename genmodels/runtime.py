"""Device choice and names, seeded generators, a wall-clock timer and timing percentiles for the UI and tools."""
import os
import platform
import time
from contextlib import contextmanager
from dataclasses import dataclass

import torch

DEVICE_ENV = "GENMODELS_DEVICE"
CORES = len(os.sched_getaffinity(0))  # the cores this process may run on


def pick_device() -> torch.device:
    """Return the device to run on: $GENMODELS_DEVICE if set, else cuda, then mps, then cpu."""
    requested = os.environ.get(DEVICE_ENV, "").strip()
    if requested:
        return torch.device(requested)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def device_name(device: torch.device) -> str:
    """A human name for the device (GPU model, or the CPU's)."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            names = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
        return f"{names[0]} x {os.cpu_count()}" if names else platform.machine()
    except OSError:
        return platform.processor() or platform.machine()


def make_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A torch.Generator on `device` seeded with `seed`: same seed and settings give the same draws."""
    generator = torch.Generator(device=device)
    generator.manual_seed(int(seed))
    return generator


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work so wall-clock timings measure the computation."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


@dataclass
class Timing:
    """Elapsed wall-clock seconds of a timed block (filled in when the block exits)."""
    seconds: float = 0.0

    @property
    def milliseconds(self) -> float:
        return self.seconds * 1000.0


@contextmanager
def timer(device: torch.device | None = None):
    """Time a block of work, synchronizing `device` before and after so GPU work is counted."""
    timing = Timing()
    if device is not None:
        synchronize(device)
    start = time.perf_counter()
    try:
        yield timing
    finally:
        if device is not None:
            synchronize(device)
        timing.seconds = time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
