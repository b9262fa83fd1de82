"""Small parts the live 2-D models share: whole-number checks, seeded MLPs, a bounded history, JSON-ready values."""
import math
import reprlib
from dataclasses import fields, is_dataclass

import numpy as np
import torch
from torch import nn

HISTORY_POINTS = 2_000  # a loss history keeps at most this many rows (downsampled, never truncated)


def is_number(value) -> bool:
    """An int or float (Python or numpy), not a bool."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def is_whole(value, lo: int, hi: int) -> bool:
    """A whole number (3 or 3.0) in [lo, hi]."""
    return is_number(value) and lo <= value <= hi and value == int(value)


def range_errors(settings, ranges: dict[str, tuple[int, int]]) -> list[str]:
    """A message for each named field of `settings` that is not a whole number in its (lo, hi) range."""
    return [f"{name} must be a whole number in [{lo}, {hi}] (got {reprlib.repr(getattr(settings, name))})"
            for name, (lo, hi) in ranges.items() if not is_whole(getattr(settings, name), lo, hi)]


def changes_run(old, new, live: tuple[str, ...]) -> bool:
    """Whether settings `new` differ from `old` in a field outside `live`: such a change starts a new run."""
    return any(getattr(new, f.name) != getattr(old, f.name) for f in fields(new) if f.name not in live)


def mlp(sizes: list[int], activation, generator: torch.Generator) -> nn.Sequential:
    """Linear layers sizes[0] -> ... -> sizes[-1] with `activation` between them; PyTorch's default init
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn from `generator`."""
    layers = []
    for d_in, d_out in zip(sizes, sizes[1:]):
        linear, bound = nn.utils.skip_init(nn.Linear, d_in, d_out), 1 / math.sqrt(d_in)  # no global RNG draws
        with torch.no_grad():
            linear.weight.uniform_(-bound, bound, generator=generator)
            linear.bias.uniform_(-bound, bound, generator=generator)
        layers += [linear, activation()]
    return nn.Sequential(*layers[:-1])


class History:
    """Per-step rows (step first, then one value per key); at most `cap` rows: when full, the stride doubles and odd
    rows go."""

    def __init__(self, keys: tuple[str, ...], cap: int = HISTORY_POINTS):
        self.keys, self.cap, self.stride, self.rows = keys, cap, 1, []

    def add(self, row: tuple) -> None:
        if row[0] % self.stride:
            return
        self.rows.append(row)
        if len(self.rows) >= self.cap:
            self.stride *= 2
            self.rows = [r for r in self.rows if r[0] % self.stride == 0]

    def as_arrays(self) -> dict[str, np.ndarray]:
        table = np.array(self.rows, dtype=np.float64).reshape(-1, len(self.keys))  # (rows, keys)
        return {key: table[:, i] for i, key in enumerate(self.keys)}


def jsonable(value):
    """Numpy arrays and floats (also inside dicts and dataclasses) as lists of floats rounded to 4 digits, NaN/inf as
    None."""
    if is_dataclass(value):
        return {f.name: jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {key: jsonable(v) for key, v in value.items()}
    if not isinstance(value, (np.ndarray, float)):
        return value
    array = np.asarray(value, dtype=np.float64)
    out = np.asarray(np.round(array, 4), dtype=object)
    out[~np.isfinite(array)] = None
    return out.tolist()


