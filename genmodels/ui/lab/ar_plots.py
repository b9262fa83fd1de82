"""Pure plotly figure builders for the lab's autoregressive model: its snapshot's to_dict() in, a figure out."""
import plotly.graph_objects as go

from genmodels.ui.lab.plots import stacked_axes
from genmodels.ui.plots import (
    BLACK,
    BLUE,
    GREEN,
    GREY,
    LEGEND_BELOW,
    ORANGE,
    array,
    figure,
    look,
    merged,
    square_axes,
)

EMPTY_CELL = "#EBEBEB"  # a cell the model gives no probability: light grey, so the white grid between cells shows


def centers(edges: list[float]) -> list[float]:
    """The middle of each bin, from its edges (bins + 1,)."""
    return [(a + b) / 2 for a, b in zip(edges, edges[1:])]


def ar_plane(snap: dict) -> dict:
    """As a figure's dict: the model's p(x) p(y | x) over the plane's cells as a heat map (the cells are the
    quantization the model sees), the real points and the samples on top, and the chosen x-bin's column outlined."""
    x_min, x_max, y_min, y_max = snap["extent"]
    edges_x, edges_y, x_bin = snap["bin_edges_x"], snap["bin_edges_y"], snap["x_bin"]
    real, samples = array(snap["real"]), array(snap["samples"])  # (n, 2) each
    traces = [dict(type="heatmap", x=array(edges_x), y=array(edges_y), z=array(snap["joint"]), zmin=0,
                   # white gaps between grey cells: the grid
                   colorscale=[[0, EMPTY_CELL], [1, ORANGE]], xgap=1, ygap=1,
                   colorbar=dict(title=dict(text="p(cell)"), len=0.8),
                   hovertemplate="p = %{z:.2%}<extra>model</extra>"),
              dict(type="scatter", x=real[:, 0], y=real[:, 1], mode="markers", name="real data",
                   marker=dict(color=GREEN, size=4, opacity=0.6), hoverinfo="skip"),
              dict(type="scatter", x=samples[:, 0], y=samples[:, 1], mode="markers",
                   name=f"samples (T = {snap['temperature']:g})", hoverinfo="skip",
                   marker=dict(color=BLUE, size=5, symbol="x", opacity=0.85))]
    column = dict(type="rect", x0=edges_x[x_bin], x1=edges_x[x_bin + 1], y0=y_min, y1=y_max,
                  line=dict(color=BLACK, width=2, dash="dot"))
    title = f"Step {snap['step']}: p(x) p(y | x) on a {snap['bins']}×{snap['bins']} grid, real points and samples"
    layout = merged(square_axes(snap["extent"]), look(title, height=560)) | {"shapes": [column]}
    return {"data": traces, "layout": layout}


def ar_conditionals_figure(snap: dict) -> go.Figure:
    """Two bar charts against the data's own shares: the marginal p(x) over the x-bins, then p(y | x) over the y-bins
    of the chosen column; the model at T = 1, and at the sampling temperature when that differs."""
    edges_x, edges_y, x_bin, t = snap["bin_edges_x"], snap["bin_edges_y"], snap["x_bin"], snap["temperature"]
    column = f"{edges_x[x_bin]:.2f} ≤ x < {edges_x[x_bin + 1]:.2f}"
    layout = stacked_axes(2, 0.2)
    titles = ("p(x): which column", f"p(y | x-bin {x_bin}), the column {column}")
    annotations = [dict(text=text, font=dict(size=16), showarrow=False, x=0.5, xanchor="center", xref="paper",
                        y=layout[axis]["domain"][1], yanchor="bottom", yref="paper")
                   for text, axis in zip(titles, ("yaxis", "yaxis2"))]  # each chart's title, as make_subplots puts it
    traces = []
    rows = (("", "x", edges_x, "data_p_x", "p_x", "p_x_temp"),
            ("2", "y", edges_y, "data_p_y_given_x", "p_y_given_x", "p_y_given_x_temp"))
    for axis, label, edges, data, model, tempered in rows:
        at = array(centers(edges))
        bars = [("data", data, GREY), ("model (T = 1)", model, BLUE)]
        if t != 1:
            bars.append((f"model at T = {t:g}", tempered, ORANGE))
        traces += [dict(type="bar", x=at, y=array(snap[key]), name=name, legendgroup=name, showlegend=axis == "",
                        marker=dict(color=color), xaxis=f"x{axis}", yaxis=f"y{axis}",
                        hovertemplate="%{x:.2f}: %{y:.2%}<extra>" + name + "</extra>") for name, key, color in bars]
        layout[f"yaxis{axis}"] |= {"title": {"text": "probability"}, "tickformat": ".0%", "rangemode": "tozero"}
        layout[f"xaxis{axis}"] |= {"range": [edges[0], edges[-1]], "title": {"text": label}}
    if snap["data_p_x"][x_bin] == 0:
        annotations.append(dict(text="the data has no points in this column", x=0.5, y=0.5, xref="x2 domain",
                                yref="y2 domain", showarrow=False, font=dict(color=BLACK)))
    layout |= {"annotations": annotations, "barmode": "group", "bargap": 0.1, "shapes": [
        dict(type="rect", x0=edges_x[x_bin], x1=edges_x[x_bin + 1], xref="x", y0=0, y1=1, yref="y domain",
             line=dict(color=BLACK, width=2, dash="dot"))]}
    title = look(f"Step {snap['step']}: the model's two distributions and the data's", height=560)
    return figure(traces, merged(layout, title, LEGEND_BELOW))
