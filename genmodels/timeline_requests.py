"""A committed model's training timeline, one snapshot at a time: the request and result the page and the API share.

The timelines are recorded by the trainers (genmodels.timeline) beside the committed weights; a family whose
weights were trained before the recording existed has none, and asking for it says how to make one.
"""
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

from genmodels.checkpoint import read_log
from genmodels.data.fashion_mnist import CLASS_NAMES
from genmodels.errors import RequestError
from genmodels.paths import ASSETS
from genmodels.timeline import TIMELINE_JSON, TILE
from genmodels.validation import Bound, Choice

FAMILIES = ("text", "pixels", "diffusion")
REMAKE = {family: f"python -m genmodels.{family}.train --preset cpu" for family in FAMILIES}
LIMITS = {
    "family": Choice("Family", FAMILIES),
    "snapshot": Bound("Training snapshot", 1, 1000, integer=True),
}


@dataclass(frozen=True)
class Timeline:
    """A family's recorded timeline: the JSON, its sprite (snapshots * 28, probes * 28) uint8 or None, the train log."""
    content: dict
    sprite: np.ndarray | None
    train_log: dict | None


@cache
def load_timeline(family: str, asset_dir: Path | None = None) -> Timeline | None:
    """The committed timeline of `family` (read once per process), or None when its weights have none."""
    folder = Path(asset_dir or ASSETS / family)
    content = read_log(folder / TIMELINE_JSON)
    if content is None or not content.get("snapshots"):
        return None
    sprite_file = content.get("sprite", {}).get("file")
    sprite = np.asarray(Image.open(folder / sprite_file).convert("L")) if sprite_file else None
    return Timeline(content, sprite, read_log(folder / "train_log.json"))


def probe_names(content: dict) -> list[str]:
    """What each probe column shows: the class asked for, or the prompt."""
    probe = content["probe"]
    if "labels" in probe:
        return [CLASS_NAMES[label] for label in probe["labels"]]
    return list(probe.get("prompts", []))


@dataclass(frozen=True)
class TimelineRequest:
    """Snapshot `snapshot` (1-based; past the last means the last) of `family`'s training."""
    family: str
    snapshot: int

    @classmethod
    def build(cls, family="text", snapshot=1) -> "TimelineRequest":
        return cls(LIMITS["family"].check(family), LIMITS["snapshot"].check(snapshot))


@dataclass(frozen=True)
class TimelineResult:
    family: str
    snapshot: int  # 1-based, clamped to the recorded snapshots
    snapshots: int
    step: int
    total_steps: int  # the run's last step
    seconds: float  # training time when the snapshot was taken, earlier snapshots' recording included
    loss_unit: str
    train_loss: float | None  # mean of the train log's last entries before the snapshot (None at step 0)
    held_out: float | None  # held-out loss in `held_out_unit` (None where the run measured none: diffusion)
    held_out_unit: str | None
    images: np.ndarray | None  # (probes, 28, 28) uint8: what the model made from the fixed probes
    probe_names: list[str]
    text: str | None  # the GPT's continuation of the fixed prompt
    probe: dict  # how the probes were drawn: prompt, seed, temperature or sampler
    curve: dict  # every snapshot's step, train loss and held-out loss, for the chart
    train_log: dict | None  # the committed training log (train and validation curves)

    def to_json(self) -> dict:
        return {"family": self.family, "snapshot": self.snapshot, "snapshots": self.snapshots, "step": self.step,
                "total_steps": self.total_steps, "seconds": self.seconds, "loss_unit": self.loss_unit,
                "train_loss": self.train_loss, "held_out": self.held_out, "held_out_unit": self.held_out_unit,
                "images": None if self.images is None else self.images.tolist(), "probe_names": self.probe_names,
                "text": self.text, "probe": self.probe, "curve": self.curve}


def held_out(snapshot: dict) -> tuple[float | None, str | None]:
    """A snapshot's held-out loss in the unit the app shows it in (bits per character for text)."""
    if "val_bits_per_char" in snapshot:
        return snapshot["val_bits_per_char"], "bits per character"
    if "val_loss" in snapshot:
        return snapshot["val_loss"], "bits per pixel"
    return None, None


def recorded_timeline(family: str, asset_dir: Path | None = None) -> Timeline:
    """The family's timeline (the family checked against LIMITS), or a RequestError saying how to record one."""
    timeline = load_timeline(LIMITS["family"].check(family), asset_dir)
    if timeline is None:
        raise RequestError(f"The committed {family} model has no training timeline: retrain it with "
                           f"`{REMAKE[family]}` to record one.")
    return timeline


def timeline_snapshot(request: TimelineRequest, asset_dir: Path | None = None) -> TimelineResult:
    """The snapshot's losses and what the model made then, with every snapshot's losses for the chart; from
    `asset_dir` instead of the family's committed assets when given."""
    timeline = recorded_timeline(request.family, asset_dir)
    snapshots = timeline.content["snapshots"]
    index = min(request.snapshot, len(snapshots)) - 1
    snapshot = snapshots[index]
    images = None
    if timeline.sprite is not None:
        images = timeline.sprite[index * TILE:(index + 1) * TILE].reshape(TILE, -1, TILE).transpose(1, 0, 2)
    value, unit = held_out(snapshot)
    curve = {"step": [s["step"] for s in snapshots], "train_loss": [s["train_loss"] for s in snapshots],
             "held_out": [held_out(s)[0] for s in snapshots]}
    return TimelineResult(request.family, index + 1, len(snapshots), snapshot["step"], snapshots[-1]["step"],
                          snapshot["seconds"], timeline.content["loss_unit"], snapshot["train_loss"], value, unit,
                          images, probe_names(timeline.content), snapshot.get("text"), timeline.content["probe"],
                          curve, timeline.train_log)
