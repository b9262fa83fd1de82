"""The 2-D lab's requests: named values checked against LIMITS into LabSettings, and the training and race calls
that yield snapshots; the Lab itself belongs to the caller's session."""
import reprlib
from collections.abc import Iterator
from dataclasses import dataclass, replace

from genmodels.errors import RequestError
from genmodels.gan.toy2d import LR_MAX, MAX_TOTAL_STEPS
from genmodels.gan.toy_data import CUSTOM_SPACING, EXTENT, MAX_CUSTOM_POINTS
from genmodels.lab import ar2d, diffusion2d
from genmodels.lab.ar2d import ARSettings
from genmodels.lab.diffusion2d import DiffusionSettings
from genmodels.lab.lab import (
    DATASET_CHOICES,
    FAMILIES,
    RACE_STEPS,
    REDRAW_EVERY,
    Lab,
    LabSettings,
    LabSnapshot,
    gan_defaults,
)
from genmodels.runtime import timer
from genmodels.validation import MAX_SEED, Bound, Choice, Text

MAX_POINT_CHARS = 24 * MAX_CUSTOM_POINTS  # "x,y" pairs: room for MAX_CUSTOM_POINTS with a few decimals each
LIMITS = {
    "dataset": Choice("Data", DATASET_CHOICES),
    "points": Text("Your points", MAX_POINT_CHARS),
    "seed": Bound("Seed", 0, MAX_SEED, integer=True),
    "coordinate": Bound("A point's coordinate", EXTENT[0], EXTENT[1]),  # the plane is square
    "steps": Bound("Steps per call", 1, 2000, integer=True),
    "race_steps": Bound("Race steps", REDRAW_EVERY, RACE_STEPS, integer=True),
    "sampler": Choice("Diffusion sampler", diffusion2d.SAMPLERS),
    "diffusion_steps": Bound("Diffusion sampling steps", *diffusion2d.SAMPLE_STEPS_RANGE, integer=True),
    "field_t": Bound("Noise level t", *diffusion2d.FIELD_T_RANGE, integer=True),
    "bins": Bound("Bins per axis", *ar2d.BINS_RANGE, integer=True),
    "temperature": Bound("Temperature", 0, ar2d.TEMPERATURE_MAX),
    "x_bin": Bound("Chosen x bin", 0, ar2d.BINS_RANGE[1] - 1, integer=True),
    "lr": Bound("GAN learning rate", 0, LR_MAX),
}
PRESETS = {  # each family at its best, then each at its worst; values by the request's names
    "All three at their defaults": {},
    "Diffusion: too few sampling steps": {"diffusion_steps": 2},
    "Autoregressive: a coarse grid": {"bins": 6, "x_bin": 3},
    "GAN: mode collapse": {"lr_g": 2e-3, "lr_d": 2e-4},  # G learns 10x faster than D, as the live 2-D GAN's preset
}
DEFAULTS = {"dataset": "ring", "points": "", "seed": 0, "families": list(FAMILIES), "sampler": "ddim",
            "diffusion_steps": DiffusionSettings.sample_steps, "field_t": DiffusionSettings.field_t,
            "bins": ARSettings.bins, "temperature": ARSettings.temperature, "x_bin": ARSettings.x_bin,
            "lr_g": 1e-3, "lr_d": 1e-3}


def parse_points(text: str) -> tuple[tuple[float, float], ...]:
    """'x,y; x,y; ...' as (x, y) pairs, or a RequestError saying how to write them."""
    pairs = [chunk for chunk in text.replace("\n", ";").split(";") if chunk.strip()]
    try:
        points = tuple((float(x), float(y)) for x, y in (pair.split(",") for pair in pairs))
    except ValueError:
        raise RequestError("Your points must be written as x,y pairs separated by semicolons, for example "
                           "'-1,0.5; 1.2,-1'.") from None
    xmin, xmax, ymin, ymax = EXTENT
    if not all(xmin <= x <= xmax and ymin <= y <= ymax for x, y in points):  # also refuses nan and inf
        raise RequestError(f"Every point must lie in [{xmin:g}, {xmax:g}] x [{ymin:g}, {ymax:g}].")
    return points


def write_points(points) -> str:
    """(x, y) pairs as the text parse_points reads."""
    return "; ".join(f"{x:g},{y:g}" for x, y in points)


def toggle_point(text: str, x, y) -> str:
    """The points with (x, y) added, or with the point near (x, y) removed: a click on a point takes it away."""
    points = parse_points(LIMITS["points"].check(text))
    x, y = LIMITS["coordinate"].check(x), LIMITS["coordinate"].check(y)
    kept = [p for p in points if (p[0] - x) ** 2 + (p[1] - y) ** 2 >= CUSTOM_SPACING ** 2]
    if len(kept) < len(points):
        return write_points(kept)
    if len(points) >= MAX_CUSTOM_POINTS:
        raise RequestError(f"At most {MAX_CUSTOM_POINTS} points: click a point to remove it.")
    return write_points([*points, (x, y)])


def check_families(families) -> tuple[str, ...]:
    """At least one of FAMILIES, in their usual order."""
    if isinstance(families, str):
        families = [families]
    if not isinstance(families, (list, tuple)) or not families or any(f not in FAMILIES for f in families):
        raise RequestError(f"Families must be a non-empty list of {', '.join(FAMILIES)} "
                           f"(got {reprlib.repr(families)}).")
    return tuple(f for f in FAMILIES if f in families)


def lab_settings(dataset="ring", points="", seed=0, sampler="ddim", diffusion_steps=DEFAULTS["diffusion_steps"],
                 field_t=DEFAULTS["field_t"], bins=DEFAULTS["bins"], temperature=DEFAULTS["temperature"],
                 x_bin=DEFAULTS["x_bin"], lr_g=1e-3, lr_d=1e-3) -> LabSettings:
    """Every named value checked, then built into the three families' settings."""
    dataset, lr = LIMITS["dataset"].check(dataset), LIMITS["lr"]
    points = LIMITS["points"].check(points)  # checked always, read only for the user's own data
    pairs = parse_points(points) if dataset == "custom" else ()
    if dataset == "custom" and not pairs:
        raise RequestError("Click the canvas to add points (or choose the ring, the grid or the moons).")
    bins = LIMITS["bins"].check(bins)
    x_bin = min(LIMITS["x_bin"].check(x_bin), bins - 1)  # a coarser grid moves the chosen column to its last one
    temperature, lr_g, lr_d = (LIMITS["temperature"].check(temperature), lr.check(lr_g), lr.check(lr_d))
    if min(temperature, lr_g, lr_d) <= 0:
        raise RequestError("The temperature and the learning rates must be greater than 0.")
    diffusion = replace(DiffusionSettings(), sampler=LIMITS["sampler"].check(sampler),
                        sample_steps=LIMITS["diffusion_steps"].check(diffusion_steps),
                        field_t=LIMITS["field_t"].check(field_t))
    autoregressive = replace(ARSettings(), bins=bins, temperature=temperature, x_bin=x_bin)
    gan = replace(gan_defaults(dataset), lr_g=lr_g, lr_d=lr_d)
    try:
        return LabSettings(dataset, pairs, LIMITS["seed"].check(seed), diffusion, autoregressive, gan).validate()
    except ValueError as err:
        raise RequestError(f"Invalid setting: {err}.") from None


@dataclass(frozen=True)
class LabStepRequest:
    """Train `families` `steps` more steps each with `settings`."""
    settings: LabSettings
    families: tuple[str, ...]
    steps: int

    @classmethod
    def build(cls, families=DEFAULTS["families"], steps=200, **settings) -> "LabStepRequest":
        return cls(lab_settings(**settings), check_families(families), LIMITS["steps"].check(steps))


@dataclass(frozen=True)
class LabUpdate:
    """The session's lab after some steps, a snapshot to draw and a note for the user."""
    lab: Lab
    snapshot: LabSnapshot
    note: str


def session_lab(lab: Lab | None, settings: LabSettings) -> tuple[Lab, str]:
    """The session's lab with these settings (a new one when None), and a note on what restarted."""
    if lab is None:
        return Lab(settings), ""
    restarted = lab.adopt(settings)
    if len(restarted) == len(FAMILIES):
        return lab, "The data or seed changed, so every model started again."
    return lab, "".join(f"The {family} model's size changed, so it started again. " for family in restarted)


def train_lab(lab: Lab | None, request: LabStepRequest) -> Iterator[LabUpdate]:
    """Continue the session's lab, yielding a snapshot every round of 50 steps; the last note says how fast."""
    lab, note = session_lab(lab, request.settings)
    if not any(lab.trainable(family) for family in request.families):
        yield LabUpdate(lab, lab.snapshot(), f"These models cannot train further (diverged, or at the limit of "
                                             f"{MAX_TOTAL_STEPS:,} steps): press **Reset**.")
        return
    latest = None
    with timer() as elapsed:
        for snapshot in lab.train(request.families, request.steps):
            if latest is not None:  # the last snapshot waits for the speed figure, so it is drawn once
                yield LabUpdate(lab, latest, note)
            latest = snapshot
    yield LabUpdate(lab, latest, f"{note}Trained {request.steps} steps each in {elapsed.seconds:.1f} s, redraws "
                                 "included.")


@dataclass(frozen=True)
class LabRaceRequest:
    """All three from step 0 with `settings`, each until it covers every mode or reaches `race_steps`."""
    settings: LabSettings
    race_steps: int

    @classmethod
    def build(cls, race_steps=RACE_STEPS, **settings) -> "LabRaceRequest":
        settings = lab_settings(**settings)
        if settings.data.centers is None:
            raise RequestError("The race needs modes to cover: choose the ring, the grid or your own points.")
        return cls(settings, LIMITS["race_steps"].check(race_steps))


def race_lab(lab: Lab | None, request: LabRaceRequest) -> Iterator[LabUpdate]:
    """The race from step 0 on the session's lab: which family covers every mode first."""
    lab, _ = session_lab(lab, request.settings)
    for snapshot in lab.race(request.race_steps):
        yield LabUpdate(lab, snapshot, "")


def reset_lab(settings: LabSettings) -> LabUpdate:
    """A new lab at step 0."""
    lab = Lab(settings)
    return LabUpdate(lab, lab.snapshot(), "New models: press **Play** or **Train** to start.")
