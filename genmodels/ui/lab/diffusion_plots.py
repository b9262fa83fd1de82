"""Pure figure builders for the 2-D lab's diffusion model: data in (a DiffusionSnapshot's to_dict()), figure out."""
import plotly.graph_objects as go

from genmodels.ui.gan.plots import arrow_segments
from genmodels.ui.plots import (
    BLACK,
    BLUE,
    GREEN,
    GREY,
    LEGEND_BELOW,
    SKY,
    array,
    figure,
    look,
    merged,
    square_axes,
)

REAL_COLOR, SAMPLE_COLOR = GREEN, BLUE  # as the GAN's plane beside it: real green, generated blue
ARROW_COLOR = "#555555"
SAMPLER_NAMES = {"ddim": "DDIM", "ddpm": "DDPM"}


def xy(points: list) -> dict:
    """A list of [x, y] as scatter's x and y."""
    points = array(points).reshape(-1, 2)  # (n, 2)
    return dict(x=points[:, 0], y=points[:, 1])


def plane_layout(snap: dict, title: str) -> dict:
    """A square plane over the snapshot's extent in the app's look, its legend under it."""
    return merged(square_axes(snap["extent"]), look(title, height=560), LEGEND_BELOW)


def sampler_label(snap: dict) -> str:
    steps = snap["sample_steps"]
    return f"{SAMPLER_NAMES[snap['sampler']]}, {steps} step{'s' if steps != 1 else ''}"


def diffusion_plane(snap: dict) -> dict:
    """The real points and the model's samples from its fixed noise, as a figure's dict."""
    traces = [dict(type="scatter", **xy(snap["real"]), mode="markers", name="real data", hoverinfo="skip",
                   marker=dict(color=REAL_COLOR, size=4, opacity=0.6)),
              dict(type="scatter", **xy(snap["samples"]), mode="markers", name=f"generated ({sampler_label(snap)})",
                   marker=dict(color=SAMPLE_COLOR, size=5, symbol="x", opacity=0.85))]
    layout = merged(square_axes(snap["extent"]), look(f"Step {snap['step']}: real points and diffusion samples", 560))
    return {"data": traces, "layout": layout}


def diffusion_field_figure(snap: dict) -> go.Figure:
    """The forward process at t (the real points noised to t) under the network's push -eps_theta(x, t) on a grid:
    where one denoising step at that noise level moves a point."""
    field, (x_min, x_max, *_) = snap["field"], snap["extent"]
    spacing = (x_max - x_min) / max(int(len(field["x"]) ** 0.5) - 1, 1)
    xs, ys = arrow_segments(field["x"], field["push"], longest=0.9 * spacing)
    traces = [dict(type="scatter", **xy(snap["noised"]), mode="markers", name=f"real points noised to t = {field['t']}",
                   hoverinfo="skip", marker=dict(color=SKY, size=4, opacity=0.6)),
              dict(type="scatter", x=array(xs), y=array(ys), mode="lines", name="push −ε̂(x, t)", hoverinfo="skip",
                   line=dict(color=ARROW_COLOR, width=1))]
    title = (f"Step {snap['step']}: the push at t = {field['t']}<br><sup>x_t = {field['signal']:.2f} x_0 + noise "
             f"of std {field['noise_level']:.2f}</sup>")
    return figure(traces, plane_layout(snap, title))


def diffusion_paths_figure(snap: dict) -> go.Figure:
    """A few samples' paths x_T -> x_0 through the sampler's steps, over the real points."""
    paths = snap["paths"]
    xs, ys = [], []
    for path in paths:
        xs += [p[0] for p in path] + [None]
        ys += [p[1] for p in path] + [None]
    traces = [dict(type="scatter", **xy(snap["real"]), mode="markers", name="real data", hoverinfo="skip",
                   marker=dict(color=REAL_COLOR, size=4, opacity=0.35)),
              dict(type="scatter", x=array(xs), y=array(ys), mode="lines", name="path", hoverinfo="skip",
                   line=dict(color=GREY, width=1.5)),
              dict(type="scatter", **xy([path[0] for path in paths]), mode="markers", name="noise x_T",
                   marker=dict(color=BLACK, size=6, symbol="circle-open")),
              dict(type="scatter", **xy([path[-1] for path in paths]), mode="markers", name="sample x_0",
                   marker=dict(color=SAMPLE_COLOR, size=7, symbol="x"))]
    title = f"Step {snap['step']}: noise to points<br><sup>{sampler_label(snap)}</sup>"
    return figure(traces, plane_layout(snap, title))
