"""The live 2-D GAN's requests: validated toy settings and a training call that yields snapshots; the run itself
(a toy2d.ToyGAN) belongs to the caller's session, and its limits are in genmodels.gan.requests.LIMITS."""
from collections.abc import Iterator
from dataclasses import dataclass

from genmodels.errors import RequestError
from genmodels.gan import toy2d
from genmodels.gan.requests import LIMITS
from genmodels.gan.toy2d import Snapshot, ToyGAN, ToySettings
from genmodels.runtime import timer

REDRAW_EVERY = 50  # steps between snapshots: drawing one costs less than training 50 steps (`bench gan`)


def toy_settings(**named) -> ToySettings:
    """The named settings (ToySettings' fields) validated, or a RequestError listing every bad value."""
    try:
        return ToySettings(**named).validate()
    except (TypeError, ValueError) as err:
        raise RequestError(f"Invalid setting: {err}.") from None


def toy_preset(name) -> ToySettings:
    return toy2d.PRESETS[LIMITS["preset"].check(name)]


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


def train_toy(run: ToyGAN | None, request: ToyStepRequest) -> Iterator[ToyUpdate]:
    """Continue `run` (a new one when None, or when the data, seed or sizes changed), yielding a snapshot every
    REDRAW_EVERY steps and at the end; the last one's note says how fast it trained."""
    note = ""
    if run is None:
        run = ToyGAN(request.settings)
    elif run.adopt(request.settings):
        note = "The data, seed or network sizes changed, so a new run started."
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
