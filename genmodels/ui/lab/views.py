"""The 2-D lab's handlers: each builds its request from named values, runs it on the session's Lab and draws the
snapshot; the same functions are the page's events and the public API."""
import gradio as gr

from genmodels.errors import RequestError
from genmodels.gan.toy_data import DATASETS
from genmodels.lab.lab import FAMILIES, RACE_STEPS, SAMPLES_KEY, LabSnapshot
from genmodels.lab.requests import (
    DEFAULTS,
    LabRaceRequest,
    LabStepRequest,
    lab_settings,
    parse_points,
    race_lab,
    reset_lab,
    toggle_point,
    train_lab,
)
from genmodels.serving import processes
from genmodels.ui.gan.plots import snapshot_manifold_figure, toy_plane, training_curves_figure
from genmodels.ui.hosting import answers
from genmodels.ui.lab import plots
from genmodels.ui.lab.ar_plots import ar_conditionals_figure, ar_plane
from genmodels.ui.lab.canvas import canvas_image, to_plane
from genmodels.ui.lab.diffusion_plots import diffusion_field_figure, diffusion_paths_figure, diffusion_plane

# What every draw returns, by name; the layout lists its outputs in this order.
VIEWS = ("diffusion_plane", "autoregressive_plane", "gan_plane", "stats", "progress", "field", "paths",
         "conditionals", "manifold", "gan_curves", "numbers")


def cell(value, form: str = "{:.3f}") -> str:
    return "–" if value is None else form.format(value)


def summary(snapshot: dict, note: str = "") -> str:
    """The measures every family shares, as one table with a column per family."""
    families = snapshot["families"]
    n_modes = snapshot["n_modes"]

    def row(label: str, show) -> str:
        return f"| {label} | " + " | ".join(show(families[f]) for f in FAMILIES) + " |"

    rows = [
        "| | " + " | ".join(plots.FAMILY_NAMES[f] for f in FAMILIES) + " |", "|---|---:|---:|---:|",
        row("training steps", lambda v: f"{v['steps']:,}"),
    ]
    if n_modes:
        rows.append(row(f"modes covered (of {n_modes})", lambda v: cell(v["measures"]["modes_covered"], "{}")))
        rows.append(row("samples on modes", lambda v: cell(v["measures"]["in_modes"], "{:.0%}")))
        rows.append(row("covered the data at step", lambda v: cell(v["covered_at"], "{:,}")))
    rows += [
        row(f"distance to the data (real: {snapshot['distance_floor']:.3f})",
            lambda v: cell(v["measures"]["distance"])),
        row("network evaluations per sample", lambda v: f"{v['nfe_per_sample']:,}"),
        row("training time", lambda v: f"{v['train_seconds']:.1f} s"),
        row("steps per second", lambda v: cell(v["steps_per_second"], "{:,.0f}")),
        row("loss stability (spread, 0 = flat)", lambda v: cell(v["stability"], "{:.2f}")),
    ]
    lines = ["\n".join(rows)]
    if snapshot["racing"]:
        lines.append("**Racing:** each family trains until it covers every mode.")
    if snapshot["race_over"]:
        lines.append(race_result(families, snapshot["race_steps"]))
    messages = [f"{plots.FAMILY_NAMES[f]}: {families[f]['message']}" for f in FAMILIES if families[f]["message"]]
    lines += [f"⚠️ {m}" for m in messages + ([snapshot["message"]] if snapshot["message"] else [])]
    if note:
        lines.append(note)
    return "\n\n".join(lines)


def race_result(families: dict, race_steps: int) -> str:
    """Who covered every mode first, in steps, with the training seconds it took."""
    finished = sorted((v for v in families.values() if v["covered_at"] is not None),
                      key=lambda v: (v["covered_at"], v["seconds_to_cover"]))
    ranking = [f"{plots.FAMILY_NAMES[v['family']]} at step {v['covered_at']:,} ({v['seconds_to_cover']:.1f} s of "
               "training)" for v in finished]
    missed = [plots.FAMILY_NAMES[v["family"]] for v in families.values() if v["covered_at"] is None]
    text = "**Race result:** " + (", then ".join(ranking) if ranking else "no family covered every mode")
    if missed:
        text += f"; {' and '.join(missed)} did not within {race_steps:,} steps"
    return text + "."


def numbers(snapshot: dict) -> dict:
    """The snapshot as JSON without the drawing-only parts: each family's samples, measures, clock and progress."""
    families = {family: {key: value for key, value in view.items() if key != "view"}
                | {"samples": view["view"][SAMPLES_KEY[family]]} for family, view in snapshot["families"].items()}
    return {key: value for key, value in snapshot.items() if key != "families"} | {"families": families}


PLANES = {  # family -> its samples over the real points, at the lab's size
    "diffusion": lambda view: plots.sized(diffusion_plane(view), f"Diffusion: step {view['step']:,}"),
    "autoregressive": lambda view: plots.sized(ar_plane(view), f"Autoregressive: step {view['step']:,}"),
    "gan": lambda view: plots.sized(toy_plane(view), f"GAN: step {view['step']:,}"),
}


def planes(views: dict[str, dict]) -> dict:
    """Every family's plane, by view name."""
    return {f"{family}_plane": build(views[family]) for family, build in PLANES.items()}


INSIDE = {  # family -> its inside views: (view name, figure builder)
    "diffusion": (("field", diffusion_field_figure), ("paths", diffusion_paths_figure)),
    "autoregressive": (("conditionals", ar_conditionals_figure),),
    "gan": (("manifold", snapshot_manifold_figure),
            ("gan_curves", lambda view: training_curves_figure(view["history"], "GAN: losses and D's outputs"))),
}


def inside_views(views: dict[str, dict], families) -> dict:
    """The inside views of `families`; the others are left as they are on the page (drawing a hidden view is
    wasted work for every redraw of every student)."""
    return {name: build(views[family]) if family in families else gr.skip()
            for family, named in INSIDE.items() for name, build in named}


def draw(snapshot: LabSnapshot, note: str = "", inside=FAMILIES) -> dict:
    """Every view of the lab for one snapshot, by name (VIEWS); inside views only for the families in `inside`."""
    data = snapshot.to_dict()
    views = {family: data["families"][family]["view"] for family in FAMILIES}
    return ({"stats": summary(data, note), "progress": plots.progress_figure(data), "numbers": numbers(data)}
            | planes(views) | inside_views(views, inside))


def shown(run, snapshot: LabSnapshot, note: str = "", inside=FAMILIES) -> list:
    """The session's lab and every view, in the order of the layout's outputs."""
    views = draw(snapshot, note, (inside,) if isinstance(inside, str) else inside)
    return [run, *(views[name] for name in VIEWS)]


def show_inside(run, family: str) -> list:
    """A newly opened inside tab's views, drawn from the session's lab as it stands (nothing before its first run:
    the views from arrival are still there)."""
    if run is None:
        return [gr.skip()] * len(VIEWS)
    data = run.snapshot().to_dict()
    views = inside_views({f: data["families"][f]["view"] for f in FAMILIES}, (family,))
    return [views.get(name, gr.skip()) for name in VIEWS]


@answers
def lab_step(run, inside="diffusion", dataset="ring", points="", seed=0, families=DEFAULTS["families"], steps=200,
             sampler="ddim", diffusion_steps=DEFAULTS["diffusion_steps"], field_t=DEFAULTS["field_t"],
             bins=DEFAULTS["bins"], temperature=DEFAULTS["temperature"], x_bin=DEFAULTS["x_bin"], lr_g=1e-3,
             lr_d=1e-3):
    """Train the session's models `steps` more steps each (those in `families`), streaming its redraws."""
    request = LabStepRequest.build(families=families, steps=steps, dataset=dataset, points=points, seed=seed,
                                   sampler=sampler, diffusion_steps=diffusion_steps, field_t=field_t, bins=bins,
                                   temperature=temperature, x_bin=x_bin, lr_g=lr_g, lr_d=lr_d)
    for update in processes.paced(processes.stream(train_lab, run, request)):  # trained in a worker process
        yield shown(update.lab, update.snapshot, update.note, inside)


@answers
def lab_race(run, inside="diffusion", dataset="ring", points="", seed=0, sampler="ddim",
             diffusion_steps=DEFAULTS["diffusion_steps"], field_t=DEFAULTS["field_t"], bins=DEFAULTS["bins"],
             temperature=DEFAULTS["temperature"], x_bin=DEFAULTS["x_bin"], lr_g=1e-3, lr_d=1e-3,
             race_steps=RACE_STEPS):
    """All three from step 0 until each covers every mode (or race_steps), streaming its redraws."""
    request = LabRaceRequest.build(race_steps=race_steps, dataset=dataset, points=points, seed=seed, sampler=sampler,
                                   diffusion_steps=diffusion_steps, field_t=field_t, bins=bins,
                                   temperature=temperature, x_bin=x_bin, lr_g=lr_g, lr_d=lr_d)
    for update in processes.paced(processes.stream(race_lab, run, request)):
        yield shown(update.lab, update.snapshot, update.note, inside)


@answers
def lab_reset(inside="diffusion", dataset="ring", points="", seed=0, sampler="ddim",
              diffusion_steps=DEFAULTS["diffusion_steps"], field_t=DEFAULTS["field_t"], bins=DEFAULTS["bins"],
              temperature=DEFAULTS["temperature"], x_bin=DEFAULTS["x_bin"], lr_g=1e-3, lr_d=1e-3):
    """New models with these settings, shown at step 0."""
    update = reset_lab(lab_settings(dataset=dataset, points=points, seed=seed, sampler=sampler,
                                    diffusion_steps=diffusion_steps, field_t=field_t, bins=bins,
                                    temperature=temperature, x_bin=x_bin, lr_g=lr_g, lr_d=lr_d))
    return shown(update.lab, update.snapshot, update.note, inside)


def lab_preview(**settings):
    """The step-0 views for these settings without keeping the models: what the tab opens on (every inside view)."""
    return lab_reset(inside=FAMILIES, **settings)[1:]


@answers
def lab_point(points: str = "", x: float = 0.0, y: float = 0.0) -> dict:
    """Add the point (x, y) to the user's own points, or remove the one there; returns the new points."""
    return {"points": toggle_point(points, x, y)}


def show_canvas(dataset: str, points: str):
    """The canvas for the chosen data: its modes, and the user's points when they are the data."""
    try:
        own = parse_points(points or "")
    except RequestError:  # a half-typed point list: show the canvas without it
        own = ()
    return canvas_image(DATASETS.get(dataset), own)


def on_canvas_click(points: str, evt: gr.SelectData):
    """A click on the canvas: the point there is added (or removed), and the data becomes the user's points."""
    x, y = to_plane(*evt.index)
    new = lab_point(points, x, y)["points"]
    return new, "custom", show_canvas("custom", new)
