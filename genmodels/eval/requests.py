"""The Compare tab's requests and results: a race of one sample per image family, and the committed report.

Each family's model comes from its own requests module (so a missing file reads the same everywhere);
`race_entries` yields each family's sample as soon as it is done, `race` collects them for the API.
"""
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import torch

from genmodels.checkpoint import read_log
from genmodels.data.fashion_mnist import CLASS_NAMES, to_model_range
from genmodels.diffusion import generate as diffusion
from genmodels.diffusion.captions import PHRASES
from genmodels.diffusion.requests import LIMITS as DIFFUSION_LIMITS
from genmodels.diffusion.requests import DiffusionRequest, diffusion_model
from genmodels.errors import RequestError
from genmodels.eval.judge import gray_levels, judged
from genmodels.eval.report import GUIDANCE, REPORT_PATH
from genmodels.gan.latent import sample_latents
from genmodels.gan.pretrained import generate
from genmodels.gan.requests import gan_model
from genmodels.paths import shown
from genmodels.pixels.requests import DEFAULT_GUIDANCE, class_id, pixel_model
from genmodels.pixels.sample import evaluations_per_image, sample_pixels
from genmodels.runtime import timer
from genmodels.validation import SEED, Bound

LIMITS = {
    "diffusion_steps": Bound("Diffusion steps", 1, DIFFUSION_LIMITS["steps"].high, integer=True),
    "seed": SEED,
}


def load_report(path: Path = REPORT_PATH) -> dict:
    """The committed `python -m genmodels.eval.report` output, or a RequestError saying how to make it."""
    report = read_log(path)
    if report is None:
        raise RequestError(f"No report yet ({shown(path)} is missing or unreadable): run "
                           f"`python -m genmodels.eval.report > {shown(path)}`.")
    return report


@dataclass(frozen=True)
class RaceRequest:
    """One sample of each family: the diffusion and pixel models are asked for class `label`, the GAN draws any."""
    label: int
    diffusion_steps: int
    seed: int

    @classmethod
    def build(cls, label="Sneaker", diffusion_steps=50, seed=0) -> "RaceRequest":
        label = class_id(label)
        if label is None:
            raise RequestError("Pick a class for the race: the diffusion and pixel models are asked for the same one.")
        return cls(label, LIMITS["diffusion_steps"].check(diffusion_steps), LIMITS["seed"].check(seed))


@dataclass(frozen=True)
class RaceEntry:
    """One family's sample: its image (1, 1, 28, 28) in [-1, 1], wall time, network evaluations, device, verdict."""
    family: str
    image: torch.Tensor
    seconds: float
    network_evaluations: int
    device: str
    verdicts: list[dict]


@dataclass(frozen=True)
class RaceResult:
    """Every family's entry, in race order, and the class the race asked for."""
    entries: list[RaceEntry]
    asked_for: str

    def to_json(self) -> dict:
        result = {}
        for e in self.entries:
            result[e.family] = {"image": gray_levels(e.image)[0], "seconds": round(e.seconds, 4),
                                "network_evaluations": e.network_evaluations, "judge": e.verdicts}
            result["device"] = e.device
        return result | {"asked_for": self.asked_for}


def entry(family: str, image: torch.Tensor, seconds: float, evaluations: int, device) -> RaceEntry:
    """A timed sample with the judge's verdict, read after the clock stopped."""
    return RaceEntry(family, image, seconds, evaluations, str(device), judged(image))


def race_entries(request: RaceRequest) -> Iterator[RaceEntry]:
    """One sample from each family in turn on this device (GAN, diffusion, pixels), each timed alone."""
    gan, dm, pm = gan_model("healthy"), diffusion_model(), pixel_model()  # every missing model named before a run
    with timer() as elapsed:
        image = generate(gan, sample_latents(request.seed, 1, gan.config.latent_dim))
    yield entry("gan", image, elapsed.seconds, 1, next(gan.generator.parameters()).device)
    asked = DiffusionRequest.build(prompt=PHRASES[request.label][1], guidance=GUIDANCE, steps=request.diffusion_steps,
                                   seed=request.seed, count=1)
    with timer() as elapsed:
        trajectory = diffusion.sample(dm, asked, keep=0)  # alone, not batched: its time is its own
    yield entry("diffusion", trajectory.images, elapsed.seconds, trajectory.network_evaluations,
                dm.unet.conv_in.weight.device)
    with timer() as elapsed:
        image = to_model_range(sample_pixels(pm.model, request.label, 1, seed=request.seed, guidance=DEFAULT_GUIDANCE))
    yield entry("pixels", image, elapsed.seconds, evaluations_per_image(request.label, DEFAULT_GUIDANCE),
                next(pm.model.parameters()).device)


def race(request: RaceRequest) -> RaceResult:
    """The whole race at once (race_entries drained)."""
    return RaceResult(list(race_entries(request)), CLASS_NAMES[request.label])


def committed_seconds() -> dict:
    """Seconds per sample in the committed report by (family, network evaluations); empty without a report."""
    try:
        report = load_report()
    except RequestError:
        return {}
    rows = [("gan", report["gan"]), ("pixels", report["pixels"])] + [("diffusion", r) for r in report["diffusion"]]
    return {(family, r["network_evaluations"]): r["seconds_per_sample"] for family, r in rows}


@dataclass(frozen=True)
class Remeasurement:
    """Each family timed now beside the committed report's seconds for the same network evaluations (None: not
    in the report), and the time it all took."""
    entries: list[RaceEntry]
    committed: list[float | None]
    seconds: float


def remeasure(label) -> Remeasurement:
    """Time one sample of each family now, diffusion at 20 and 50 steps (step counts the report measured)."""
    with timer() as total:
        entries = list(race_entries(RaceRequest.build(label=label, diffusion_steps=20, seed=0)))
        entries += list(islice(race_entries(RaceRequest.build(label=label, diffusion_steps=50, seed=1)), 2))[1:]
    committed = committed_seconds()
    return Remeasurement(entries, [committed.get((e.family, e.network_evaluations)) for e in entries], total.seconds)
