"""A training timeline: at a few steps of a run, the loss so far and what the model makes from fixed probes.

Each trainer takes snapshots at `snapshot_steps` (dense early, where the model changes fastest, and always at the
run's last step) and writes them to timeline.json beside its weights; image families also write timeline.png, a
sprite with one row of tiles per snapshot and one column per probe (the same prompts, seeds and noise every time).
"""
import json
import math
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from PIL import Image
from torch import nn

from genmodels.training import TrainingClock

TIMELINE_JSON = "timeline.json"
SPRITE = "timeline.png"
SEED = 0  # every probe's generator and noise start from it
SNAPSHOTS = 12  # per run, when the run lasts its planned steps
TRAIN_WINDOW = 5  # a snapshot's training loss: the mean of the train log's last entries
TILE = 28  # pixels per side of a sprite tile


def snapshot_steps(steps: int, every: int, count: int = SNAPSHOTS) -> list[int]:
    """0 and `steps`, and between them multiples of `every` spaced geometrically from `every` (the train log's
    interval, so its entries fall on them): at most `count` steps, fewer where the rounding makes them meet."""
    if steps <= every:
        return sorted({0, steps})
    ratio = (steps / every) ** (1 / (count - 2))
    return sorted({0, steps} | {every * round(ratio ** k) for k in range(count - 2)})


def recent_train_loss(train: dict) -> dict:
    """The mean of the train log's last TRAIN_WINDOW losses and the first and last step they were logged at."""
    steps, losses = train["step"][-TRAIN_WINDOW:], train["loss"][-TRAIN_WINDOW:]
    if not losses:
        return {"train_loss": None, "train_loss_steps": None}
    return {"train_loss": round(sum(losses) / len(losses), 5), "train_loss_steps": [steps[0], steps[-1]]}


def bits_per_char(nats_per_token: float, tokens: int, chars: int) -> float:
    """Held-out bits per character from the mean token loss over text of `tokens` tokens and `chars` characters."""
    return nats_per_token * tokens / chars / math.log(2)


@contextmanager
def evaluating(model: nn.Module):
    """The model in eval mode and without gradients inside the block, back in its own mode after it."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)


def sprite_row(images: torch.Tensor) -> np.ndarray:
    """uint8 images (N, 28, 28) side by side: (28, 28 N)."""
    return images.cpu().permute(1, 0, 2).reshape(TILE, -1).numpy()


class Timeline:
    """The snapshots of one run, rewritten to out_dir after each, so a run stopped early keeps what it took.

    probe() returns what the model makes now: named values for the JSON, and for image families "images",
    uint8 (N, 28, 28), one per probe, which become the snapshot's sprite row."""

    def __init__(self, out_dir: Path, steps: list[int], clock: TrainingClock, probe: Callable[[], dict], about: dict):
        self.out_dir, self.steps, self.clock, self.probe = Path(out_dir), set(steps), clock, probe
        self.content = about | {"planned_steps": sorted(steps), "train_loss_window": TRAIN_WINDOW,
                                "recording_seconds": 0.0, "snapshots": []}
        self.rows: list[np.ndarray] = []

    def due(self, step: int, last: bool) -> bool:
        """Whether to take a snapshot at `step`: a planned one, or the run's last."""
        return step in self.steps or last

    def record(self, step: int, train: dict, **measured) -> None:
        """Snapshot at `step`: the recent training loss from the train log `train`, the `measured` values (held-out
        losses), and the probe's outputs; `seconds` is the time since the run started, earlier snapshots included."""
        began = time.perf_counter()
        snapshot = {"step": step, "seconds": round(began - self.clock.start, 2), **recent_train_loss(train),
                    **measured}
        made = self.probe()
        images = made.pop("images", None)
        if images is not None:
            self.rows.append(sprite_row(images))
        self.content["snapshots"].append(snapshot | made)
        self.content["recording_seconds"] = round(self.content["recording_seconds"] + time.perf_counter() - began, 3)
        self.write()

    def write(self) -> None:
        """timeline.json, and the sprite when there are images."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if self.rows:
            self.content["sprite"] = {"file": SPRITE, "tile": TILE, "rows": len(self.rows),
                                      "columns": self.rows[0].shape[1] // TILE,
                                      "layout": "row i is snapshot i, column j is probe j"}
            Image.fromarray(np.concatenate(self.rows)).save(self.out_dir / SPRITE, optimize=True)
        (self.out_dir / TIMELINE_JSON).write_text(json.dumps(self.content, indent=1) + "\n")
