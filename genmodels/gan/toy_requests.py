"""The live 2-D GAN's requests: validated toy settings, the preset they match, a training call that yields
snapshots, one lone update of D or G (GAN Lab's Step D and Step G), and the generator's manifold; the run itself
(a toy2d.ToyGAN) belongs to the caller's session, and its limits are in genmodels.gan.requests.LIMITS."""
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from genmodels.errors import RequestError
from genmodels.gan import toy2d
from genmodels.gan.requests import LIMITS
from genmodels.gan.toy2d import Manifold, Snapshot, ToyGAN, ToySettings, jsonable
from genmodels.runtime import timer

REDRAW_EVERY = 50  # steps between snapshots: drawing one costs less than training 50 steps (`bench gan`)
CUSTOM = "Custom"  # what the preset box says when the settings match no preset


def toy_settings(**named) -> ToySettings:
    """The named settings (ToySettings' fields) validated, or a RequestError listing every bad value."""
    try:
        return ToySettings(**named).validate()
    except (TypeError, ValueError) as err:
        raise RequestError(f"Invalid setting: {err}.") from None


def toy_preset(name) -> ToySettings:
    return toy2d.PRESETS[LIMITS["preset"].check(name)]


def preset_of(**named) -> str:
    """The name of the preset whose settings are exactly these, else CUSTOM (also for invalid values)."""
    try:
        settings = ToySettings(**named).validate()
    except (TypeError, ValueError):
        return CUSTOM
    return next((name for name, preset in toy2d.PRESETS.items() if preset == settings), CUSTOM)


@dataclass(frozen=True)
class ToyStepRequest:
    """Train `steps` more steps with `settings`."""
    settings: ToySettings
    steps: int

    @classmethod
    def build(cls, steps=200, **settings) -> "ToyStepRequest":
        return cls(toy_settings(**settings), LIMITS["steps"].check(steps))


@dataclass(frozen=True)
class ToyUpdate:
    """The session's run after some steps, a snapshot to draw and a note for the user."""
    run: ToyGAN
    snapshot: Snapshot
    note: str


def session_run(run: ToyGAN | None, settings: ToySettings) -> tuple[ToyGAN, str]:
    """`run` with `settings` adopted, or a new run when there is none or the data, seed or sizes changed; and a
    note saying so."""
    if run is None:
        return ToyGAN(settings), ""
    if run.adopt(settings):
        return run, "The data, seed or network sizes changed, so a new run started."
    return run, ""


def train_toy(run: ToyGAN | None, request: ToyStepRequest) -> Iterator[ToyUpdate]:
    """Continue `run` (session_run), yielding a snapshot every REDRAW_EVERY steps and at the end; the last one's note
    says how fast it trained."""
    run, note = session_run(run, request.settings)
    if run.diverged or run.steps >= toy2d.MAX_TOTAL_STEPS:
        yield ToyUpdate(run, run.snapshot(), "Press **Reset** to start again.")
        return
    start, latest = run.steps, None
    with timer() as elapsed:
        for snapshot in run.train(request.steps, every=REDRAW_EVERY):
            if latest is not None:  # the last snapshot waits for the speed figure, so it is drawn once
                yield ToyUpdate(run, latest, note)
            latest = snapshot
    rate = (run.steps - start) / max(elapsed.seconds, 1e-9)
    yield ToyUpdate(run, latest, f"{note} Trained {run.steps - start} steps at {rate:,.0f} steps/s on the CPU.")


@dataclass(frozen=True)
class ToyPartRequest:
    """One update of one network alone: part "d" (the discriminator) or "g" (the generator), with `settings`."""
    settings: ToySettings
    part: str

    @classmethod
    def build(cls, part="d", **settings) -> "ToyPartRequest":
        return cls(toy_settings(**settings), LIMITS["part"].check(part))


PART_NOTES = {"d": "One discriminator update alone: the background moved, the generated points did not (a lone D "
                   "update adds to the D updates, not to the step count).",
              "g": "One generator update alone: the generated points moved up D's slope and the background stayed "
                   "(it counts as one step)."}


def update_toy(run: ToyGAN | None, request: ToyPartRequest) -> ToyUpdate:
    """One update of the request's network in `run` (session_run), and the snapshot after it."""
    run, note = session_run(run, request.settings)
    if run.diverged or run.steps >= toy2d.MAX_TOTAL_STEPS:
        return ToyUpdate(run, run.snapshot(), "Press **Reset** to start again.")
    (run.step_d if request.part == "d" else run.step_g)()
    return ToyUpdate(run, run.snapshot(), f"{note} {PART_NOTES[request.part]}".strip())


@dataclass(frozen=True)
class ManifoldRequest:
    """G over a `grid_lines` x `grid_lines` grid of latents."""
    grid_lines: int

    @classmethod
    def build(cls, grid_lines=toy2d.MESH_SIZE) -> "ManifoldRequest":
        return cls(LIMITS["grid_lines"].check(grid_lines))


@dataclass(frozen=True)
class ManifoldResult:
    """G's manifold at one step of a run, with the run's real points under it."""
    step: int
    dataset: str
    extent: tuple[float, float, float, float]
    real: np.ndarray  # (N_POINTS, 2)
    manifold: Manifold

    @classmethod
    def of(cls, snapshot: Snapshot) -> "ManifoldResult":
        """The manifold a snapshot holds."""
        return cls(snapshot.step, snapshot.dataset, snapshot.extent, snapshot.real, snapshot.manifold)

    def to_json(self) -> dict:
        data = jsonable(self)
        manifold = data.pop("manifold")
        return data | manifold


def toy_manifold(run: ToyGAN | None, request: ManifoldRequest) -> ManifoldResult:
    """The session's run's G on the request's latent grid, now."""
    if run is None:
        raise RequestError("This session has no run yet: train it first (toy_gan_step, or Train on the page).")
    return ManifoldResult(run.steps, run.settings.dataset, run.data.extent,
                          run.real.numpy(), run.manifold(request.grid_lines))
