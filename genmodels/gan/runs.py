"""The two committed GAN runs side by side (the same latents through both) and their training replayed from the
committed logs; requests and results as in genmodels.gan.requests, whose LIMITS they use."""
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image

from genmodels.checkpoint import read_log
from genmodels.data.examples import load_real_images
from genmodels.data.fashion_mnist import CLASS_NAMES, to_model_range
from genmodels.errors import RequestError
from genmodels.eval.judge import judged
from genmodels.eval.metrics import entropy_bits
from genmodels.gan.evaluate import pair_distance, recognized_shares
from genmodels.gan.latent import sample_latents
from genmodels.gan.pretrained import ASSET_DIR, KINDS, REMAKE, generate, p_real
from genmodels.gan.requests import LIMITS, Judged, gan_model

COMPARE_SHOWN = 16  # samples of each generator kept for showing side by side


@dataclass(frozen=True)
class CompareRequest:
    """Both generators from the same `count` latents of `seed`."""
    seed: int
    count: int

    @classmethod
    def build(cls, seed=0, count=256) -> "CompareRequest":
        return cls(LIMITS["seed"].check(seed), LIMITS["compared"].check(count))


@dataclass(frozen=True)
class GeneratorMix:
    """One generator's first COMPARE_SHOWN samples, the share of each class among the samples the judge recognized
    ([] without the judge, or when it recognized none), and the share it could not recognize as a garment."""
    kind: str
    shown: Judged
    shares: list[float]
    unrecognized: float
    diversity: float  # mean pixel distance between sample pairs relative to that between the shipped real images

    @property
    def covered(self) -> int:
        return sum(s > 0 for s in self.shares)

    @property
    def entropy_bits(self) -> float:
        return entropy_bits(self.shares)

    @property
    def top_class(self) -> str:
        return CLASS_NAMES[int(np.argmax(self.shares))]


@cache
def real_pair_distance() -> float:
    """Mean pixel distance between pairs of the shipped real test images, the yardstick of sample diversity."""
    return pair_distance(to_model_range(load_real_images()))


def compare_generators(request: CompareRequest) -> list[GeneratorMix]:
    """The healthy and the collapsed generator from the same latents, each judged on every sample."""
    mixes = []
    for kind in KINDS:
        gan = gan_model(kind)
        x = generate(gan, sample_latents(request.seed, request.count, gan.config.latent_dim))
        verdicts = judged(x)  # the classifier runs once per generator: for the shares and the shown verdicts
        shares, unrecognized = recognized_shares(verdicts)  # counted as `python -m genmodels.gan.evaluate` does
        shown = x[:COMPARE_SHOWN]
        mixes.append(GeneratorMix(kind, Judged(shown, p_real(gan, shown), verdicts[:COMPARE_SHOWN]), shares,
                                  unrecognized, pair_distance(x) / real_pair_distance()))
    return mixes


@cache
def replay_record(kind: str) -> tuple[dict, np.ndarray] | None:
    """A committed training log and its sprite of sample grids (snapshots * grid px, grid px); None if missing."""
    log = read_log(ASSET_DIR / f"{kind}_train_log.json")
    if log is None:
        return None
    sprite = np.asarray(Image.open(ASSET_DIR / log["snapshots"]["sprite"]).convert("L"))
    return log, sprite


@dataclass(frozen=True)
class ReplayRequest:
    """The fixed-noise sample grid of a committed run at logged snapshot `index` (1-based)."""
    kind: str
    index: int

    @classmethod
    def build(cls, kind="healthy", index=1) -> "ReplayRequest":
        return cls(LIMITS["kind"].check(kind), LIMITS["snapshot"].check(index))


@dataclass(frozen=True)
class ReplayResult:
    kind: str
    grid: np.ndarray  # (px, px) uint8: the fixed-noise sample grid at this snapshot
    history: dict  # the logged training curves: lists by key (step, d_loss, g_loss, d_real, d_fake)
    snapshot: int  # 1-based, clamped to the logged snapshots
    snapshots: int
    step: int  # the training step of this snapshot
    total_steps: int
    phases: str  # how the run was staged, where it was (the collapse recipe's log says); else ""


def replay(request: ReplayRequest) -> ReplayResult:
    """The snapshot's grid cut from the sprite, with the run's curves; past the last snapshot means the last."""
    record = replay_record(request.kind)
    if record is None:
        raise RequestError(f"No training log for the {request.kind} GAN: run `{REMAKE[request.kind]}`.")
    log, sprite = record
    steps = log["snapshots"]["step"]
    index = min(request.index, len(steps)) - 1
    side = sprite.shape[1]
    return ReplayResult(kind=request.kind, grid=sprite[index * side:(index + 1) * side], history=log["train"],
                        snapshot=index + 1, snapshots=len(steps), step=steps[index],
                        total_steps=log["settings"]["steps"], phases=log.get("phases", ""))
