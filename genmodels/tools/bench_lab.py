"""`bench lab`: how fast each family of the 2-D lab trains with its redraws, alone and all three together.

A redraw is what the page does every 50 steps: the family's snapshot, its measures and its figures serialized to
JSON (the figures only where plotly and the UI are installed; the GPU machine has neither)."""
import time

import plotly.io as pio
import torch

from genmodels.lab.lab import FAMILIES, REDRAW_EVERY, Lab
from genmodels.lab.requests import lab_settings
from genmodels.runtime import device_name


def page_views():
    """The page's drawing functions, or None where gradio and plotly are not installed (imported before any timing:
    importing gradio takes seconds)."""
    try:
        from genmodels.ui.lab import views
    except ImportError:
        return None
    return views


def as_json(value) -> int:
    """A view's size in bytes as the page sends it (figures through plotly's JSON)."""
    return len(pio.to_json(value)) if hasattr(value, "to_plotly_json") else len(str(value))


def figures(family: str, snapshot, views) -> int:
    """Draw one family's views of a snapshot as the page does; returns the JSON's size in bytes."""
    if views is None:
        return 0
    view = snapshot.to_dict()["families"][family]["view"]
    drawn = [views.PLANES[family](view), *(build(view) for _, build in views.INSIDE[family])]
    return sum(as_json(figure) for figure in drawn)


def bench_family(family: str, dataset: str, steps: int, views) -> dict:
    """One family alone: training steps per second with and without its redraws every 50 steps."""
    lab = Lab(lab_settings(dataset=dataset))
    lab.snapshot()  # the other families' step-0 views, made once, so each redraw times this family alone
    redraw_seconds, sizes = 0.0, []
    start = time.perf_counter()
    for _ in range(steps // REDRAW_EVERY):
        lab.advance(family, REDRAW_EVERY)
        began = time.perf_counter()
        sizes.append(figures(family, lab.snapshot(), views))
        redraw_seconds += time.perf_counter() - began
    total = time.perf_counter() - start
    train = lab.seconds[family]
    return {"steps": steps, "train_steps_per_second": round(steps / train, 1),
            "steps_per_second_with_redraws": round(steps / total, 1),
            "redraw_ms": round(1000 * redraw_seconds / len(sizes), 1),
            "redraw_vs_training": round(redraw_seconds / train, 3), "figure_kilobytes": round(sizes[-1] / 1024, 1)}


def bench_lab(steps: int = 1000, dataset: str = "ring") -> dict:
    """Every family alone, then all three together through the page's full redraw."""
    result = {"family": "lab", "device": "cpu", "device_name": device_name(torch.device("cpu")),
              "threads": torch.get_num_threads(), "dataset": dataset, "batch_size": 256,
              "redraw_every": REDRAW_EVERY}
    views = page_views()
    for family in FAMILIES:
        result[family] = bench_family(family, dataset, steps, views)
    lab = Lab(lab_settings(dataset=dataset))
    start = time.perf_counter()
    for snapshot in lab.train(FAMILIES, steps):
        if views is not None:  # what the page draws: every plane, the table, and one inside tab's views
            sum(as_json(value) for value in views.draw(snapshot, inside=("diffusion",)).values())
    result["together_steps_per_second_each"] = round(steps / (time.perf_counter() - start), 1)
    return result


def bench_lab_cover(steps: int = 2000, seeds: int = 5) -> dict:
    """Each family with default settings on the ring and the grid for `steps` steps, over `seeds` seeds: modes
    covered at the end, and the step at which it first covered the data (every mode, half the samples on modes)."""
    result = {"family": "lab-cover", "steps": steps, "seeds": list(range(seeds))}
    for dataset in ("ring", "grid"):
        rows = {family: {"modes_covered": [], "covered_at": []} for family in FAMILIES}
        for seed in range(seeds):
            lab = Lab(lab_settings(dataset=dataset, seed=seed))
            *_, last = lab.train(FAMILIES, steps)
            for family, view in last.families.items():
                rows[family]["modes_covered"].append(view.measures.modes_covered)
                rows[family]["covered_at"].append(view.covered_at)
        result[dataset] = {"n_modes": last.n_modes} | rows
    return result
