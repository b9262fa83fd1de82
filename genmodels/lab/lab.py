"""The live 2-D lab: a diffusion model, an autoregressive model and a GAN learning the same points side by side.

One Lab belongs to one browser session. It trains the families it is asked to, 50 steps each in turn, and after
every round draws each one's samples and measures them alike against one fixed set of real points: modes covered,
sliced Wasserstein distance, network evaluations per sample, training time and loss stability. The race trains all
three from step 0 until each covers every mode.
"""
import math
import reprlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from genmodels.gan.toy2d import PRESETS as GAN_PRESETS
from genmodels.gan.toy2d import MAX_TOTAL_STEPS, SEED_RANGE, ToyGAN, ToySettings
from genmodels.gan.toy_data import DATASETS, ToyDistribution, custom_distribution
from genmodels.lab.ar2d import ARSettings, ToyAR
from genmodels.lab.diffusion2d import DiffusionSettings, ToyDiffusion
from genmodels.lab.measures import SampleMeasures, distance_floor, loss_stability, measure_samples
from genmodels.lab.parts import History, is_whole, jsonable
from genmodels.runtime import make_generator

FAMILIES = ("diffusion", "autoregressive", "gan")
DATASET_CHOICES = (*DATASETS, "custom")  # "custom": a mixture around the user's own points
REDRAW_EVERY = 50  # steps each family trains between two redraws
RACE_STEPS = 3_000  # the race gives up on a family that has not covered every mode by then
N_REAL = 512  # the fixed real points every family is measured against
LOSS_KEY = {"diffusion": "loss", "autoregressive": "loss", "gan": "loss_g"}  # the loss whose stability is shown
SAMPLES_KEY = {"diffusion": "samples", "autoregressive": "samples", "gan": "fake"}  # each snapshot's drawn points
PROGRESS_KEYS = ("step", "modes_covered", "distance")
ON_MODES = 0.5  # a family has covered the data once every mode is covered and at least half its samples lie on modes:
# with few modes a cloud of noise touches each of them with 1% of its points, which is no cover at all


def gan_defaults(dataset: str) -> ToySettings:
    """The live 2-D GAN's converging preset for this data (the grid's wants a wider noise and a smaller net)."""
    return GAN_PRESETS["Grid of 25: converges"] if dataset == "grid" else GAN_PRESETS["Ring of 8: converges"]


@dataclass(frozen=True)
class LabSettings:
    """The data every family learns and each family's own settings; one seed seeds all three."""
    dataset: str = "ring"
    points: tuple[tuple[float, float], ...] = ()  # the user's own points, for dataset "custom"
    seed: int = 0
    diffusion: DiffusionSettings = field(default_factory=DiffusionSettings)
    autoregressive: ARSettings = field(default_factory=ARSettings)
    gan: ToySettings = field(default_factory=ToySettings)

    def validate(self) -> "LabSettings":
        """A copy with every family's settings checked and seeded alike, or a ValueError naming what is wrong."""
        if self.dataset not in DATASET_CHOICES:
            raise ValueError(f"dataset must be one of {', '.join(DATASET_CHOICES)} (got {reprlib.repr(self.dataset)})")
        if not is_whole(self.seed, *SEED_RANGE):
            raise ValueError(f"seed must be a whole number in [{SEED_RANGE[0]}, {SEED_RANGE[1]}] "
                             f"(got {reprlib.repr(self.seed)})")
        points = custom_distribution(self.points).centers if self.dataset == "custom" else ()
        seed, gan_dataset = int(self.seed), self.dataset if self.dataset in DATASETS else "ring"
        return replace(self, points=points, seed=seed,
                       diffusion=replace(self.diffusion, seed=seed).validate(),
                       autoregressive=replace(self.autoregressive, seed=seed).validate(),
                       gan=replace(self.gan, seed=seed, dataset=gan_dataset).validate())

    @property
    def data(self) -> ToyDistribution:
        return custom_distribution(self.points) if self.dataset == "custom" else DATASETS[self.dataset]


@dataclass
class FamilyView:
    """One family at one moment: its own snapshot (as JSON-ready values) and the measures every family shares."""
    family: str
    view: dict  # the model's own snapshot, to_dict()
    measures: SampleMeasures
    steps: int
    nfe_per_sample: int  # network evaluations to draw one sample
    train_seconds: float  # wall time spent in training steps (redraws not included)
    steps_per_second: float | None
    stability: float | None  # measures.loss_stability of LOSS_KEY[family]
    loss: float | None  # the latest step's LOSS_KEY[family]
    covered_at: int | None  # the first redraw's step with every mode covered and ON_MODES of the samples on modes
    seconds_to_cover: float | None  # training seconds up to covered_at
    progress: dict[str, np.ndarray]  # PROGRESS_KEYS -> (redraws,) modes covered and distance at each redraw
    message: str


@dataclass
class LabSnapshot:
    """Every family at one moment, over the same real points."""
    dataset: str
    extent: tuple[float, float, float, float]
    real: np.ndarray  # (N_REAL, 2)
    distance_floor: float  # what a perfect model would score
    n_modes: int | None
    families: dict[str, FamilyView]
    racing: bool
    race_over: bool  # the race just ended: covered_at ranks the families
    race_steps: int  # the race's cap on each family's steps
    message: str

    def to_dict(self) -> dict:
        """Plain lists, floats, ints, strings and None: ready for json.dumps(allow_nan=False)."""
        return jsonable(self)


class Lab:
    """One session's three models on one data set; reset() starts them all again at step 0."""

    def __init__(self, settings: LabSettings):
        self.settings = settings.validate()
        self.reset()

    def reset(self) -> None:
        """New models, real points and measures from the settings and seed."""
        s, data = self.settings, self.settings.data
        init = make_generator(s.seed)
        self.data, self.real = data, data.sample(N_REAL, init)  # (N_REAL, 2)
        self.floor = distance_floor(data, self.real, init)
        self.models = {"diffusion": ToyDiffusion(s.diffusion, data), "autoregressive": ToyAR(s.autoregressive, data),
                       "gan": ToyGAN(s.gan, data)}
        self.seconds, self.progress, self.covered_at, self.cover_seconds, self.cache = {}, {}, {}, {}, {}
        for family in FAMILIES:
            self._restart(family)
        self.racing, self.race_over, self.race_steps, self.message = False, False, RACE_STEPS, ""

    def _restart(self, family: str) -> None:
        """Forget a family's clock, progress and cached view (its model has just been rebuilt)."""
        self.seconds[family], self.progress[family] = 0.0, History(PROGRESS_KEYS)
        self.covered_at[family] = self.cover_seconds[family] = None
        self.cache.pop(family, None)

    def adopt(self, settings: LabSettings) -> list[str]:
        """Take new settings: other data or seed restarts every family, a family's own restart-worthy change
        restarts that family alone, anything else applies from the next redraw. Returns the restarted families."""
        settings = settings.validate()
        old, self.settings = self.settings, settings
        if (settings.dataset, settings.points, settings.seed) != (old.dataset, old.points, old.seed):
            self.reset()
            return list(FAMILIES)
        restarted = [family for family in FAMILIES if self.models[family].adopt(getattr(settings, family))]
        for family in restarted:
            self._restart(family)
        return restarted

    def trainable(self, family: str) -> bool:
        """Whether the family can take another step (every model stops at the same MAX_TOTAL_STEPS)."""
        model = self.models[family]
        return not model.diverged and model.steps < MAX_TOTAL_STEPS

    def advance(self, family: str, n_steps: int) -> None:
        """Up to n_steps training steps of one family, timed; a diverged model or one at its limit stops."""
        model = self.models[family]
        start = time.perf_counter()
        try:
            for _ in range(n_steps):
                model.step()
                if model.diverged:
                    break
        except RuntimeError as err:  # at its step limit: the others go on
            self.message = f"{family}: {err}"
        self.seconds[family] += time.perf_counter() - start

    def train(self, families: tuple[str, ...], n_steps: int, every: int = REDRAW_EVERY) -> Iterator[LabSnapshot]:
        """Train each of `families` n_steps more steps, `every` steps each in turn, yielding a snapshot after every
        round; families that cannot train (diverged, at their limit) are skipped."""
        self.racing, self.race_over, self.message = False, False, ""
        done = 0
        while done < n_steps:
            going = [family for family in families if self.trainable(family)]
            if not going:
                break
            chunk = min(every, n_steps - done)
            for family in going:
                self.advance(family, chunk)
            done += chunk
            yield self.snapshot()
        if done == 0:
            yield self.snapshot()

    def race(self, cap: int = RACE_STEPS, every: int = REDRAW_EVERY) -> Iterator[LabSnapshot]:
        """All three from step 0, in turns of `every` steps, each until it covers every mode or reaches `cap`."""
        if self.data.centers is None:
            raise ValueError("the race needs modes to cover: choose the ring, the grid or your own points")
        self.reset()
        self.racing, self.race_steps = True, cap
        yield self.snapshot()
        while going := [family for family in FAMILIES if self.covered_at[family] is None
                        and self.models[family].steps < cap and self.trainable(family)]:
            for family in going:
                self.advance(family, min(every, cap - self.models[family].steps))
            yield self.snapshot()
        self.racing, self.race_over = False, True
        yield self.snapshot()

    def view(self, family: str) -> FamilyView:
        """The family's snapshot and measures, recomputed only when its steps or settings changed."""
        model = self.models[family]
        key = (model.steps, getattr(self.settings, family))
        if family in self.cache and self.cache[family][0] == key:
            return self.cache[family][1]
        snapshot = model.snapshot()
        samples = getattr(snapshot, SAMPLES_KEY[family])  # (N, 2)
        measures = measure_samples(torch.as_tensor(samples), self.data, self.real)
        progress = self.progress[family]
        if not progress.rows or progress.rows[-1][0] != model.steps:
            progress.add((model.steps, -1 if measures.modes_covered is None else measures.modes_covered,
                          math.nan if measures.distance is None else measures.distance))
        if (self.covered_at[family] is None and measures.n_modes and model.steps > 0
                and measures.modes_covered == measures.n_modes and measures.in_modes >= ON_MODES):
            self.covered_at[family], self.cover_seconds[family] = model.steps, self.seconds[family]
        history = model.history.as_arrays()
        losses = history[LOSS_KEY[family]]
        seconds = self.seconds[family]
        result = FamilyView(
            family=family, view=snapshot.to_dict(), measures=measures, steps=model.steps,
            nfe_per_sample=model.nfe_per_sample, train_seconds=seconds,
            steps_per_second=model.steps / seconds if seconds > 0 and model.steps else None,
            stability=loss_stability(history["step"], losses), loss=float(losses[-1]) if len(losses) else None,
            covered_at=self.covered_at[family], seconds_to_cover=self.cover_seconds[family],
            progress=progress.as_arrays(), message=snapshot.message)
        self.cache[family] = (key, result)
        return result

    def snapshot(self) -> LabSnapshot:
        """Every family now, measured against the same real points."""
        return LabSnapshot(
            dataset=self.settings.dataset, extent=self.data.extent, real=self.real.numpy().copy(),
            distance_floor=self.floor, n_modes=None if self.data.centers is None else len(self.data.centers),
            families={family: self.view(family) for family in FAMILIES}, racing=self.racing,
            race_over=self.race_over, race_steps=self.race_steps, message=self.message)
