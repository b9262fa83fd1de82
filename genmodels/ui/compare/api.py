"""The Compare tab's JSON endpoints: build the race request from the named arguments, run it, send the result."""
import gradio as gr

from genmodels import timeline_requests as timelines
from genmodels.eval import requests as family
from genmodels.eval.training_cost import training_costs
from genmodels.ui.hosting import RACE, answers, on_gpu

# Races run at once over the page and the API: their pixel images then share the pixel engine's ticks, where one race
# at a time left a class's races queued behind each other (docs/performance.md)
RACES = dict(concurrency_limit=4, concurrency_id="race")


@on_gpu(RACE)
def race(label: str = "Sneaker", diffusion_steps: int = 50, seed: int = 0) -> dict:
    """One sample from each family on this device, one after another: the image, wall time and network
    evaluations of each (the GAN draws any class; the others are asked for `label`)."""
    request = family.RaceRequest.build(label=label, diffusion_steps=diffusion_steps, seed=seed)
    return family.race(request).to_json()


@answers
def compare_report() -> dict:
    """Every measured figure of every model, as committed in assets/report.json with its command, device, date, and
    each model's training cost read from its training log (`training`: parameters, steps, seconds, device)."""
    return family.load_report() | {"training": training_costs()}


@answers
def training_timeline(family: str = "pixels", snapshot: int = 1) -> dict:
    """Snapshot `snapshot` (1-based) of a committed model's training: step, time, losses, and what the model made
    then from the fixed probes (`images` as 0-255 gray levels, or the GPT's `text`), with every snapshot's losses."""
    return timelines.timeline_snapshot(timelines.TimelineRequest.build(family=family, snapshot=snapshot)).to_json()


def register_api() -> None:
    """Expose race, compare_report and training_timeline as API endpoints (call inside a gr.Blocks context)."""
    gr.api(race, api_name="race", **RACES)
    for fn in (compare_report, training_timeline):
        gr.api(fn, api_name=fn.__name__)
