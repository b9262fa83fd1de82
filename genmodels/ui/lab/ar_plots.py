"""Pure plotly figure builders for the lab's autoregressive model: its snapshot's to_dict() in, a figure out."""
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from genmodels.ui.plots import BLACK, BLUE, GREEN, GREY, ORANGE, below_legend, styled

EMPTY_CELL = "#EBEBEB"  # a cell the model gives no probability: light grey, so the white grid between cells shows


def centers(edges: list[float]) -> list[float]:
    """The middle of each bin, from its edges (bins + 1,)."""
    return [(a + b) / 2 for a, b in zip(edges, edges[1:])]


def ar_plane_figure(snap: dict) -> go.Figure:
    """The model's p(x) p(y | x) over the plane's cells as a heat map (the cells are the quantization the model
    sees), the real points and the samples on top, and the chosen x-bin's column outlined."""
    x_min, x_max, y_min, y_max = snap["extent"]
    edges_x, edges_y, x_bin = snap["bin_edges_x"], snap["bin_edges_y"], snap["x_bin"]
    fig = go.Figure()
    fig.add_heatmap(x=edges_x, y=edges_y, z=snap["joint"], zmin=0, colorscale=[[0, EMPTY_CELL], [1, ORANGE]],
                    xgap=1, ygap=1, colorbar=dict(title="p(cell)", len=0.8),  # white gaps between grey cells: the grid
                    hovertemplate="p = %{z:.2%}<extra>model</extra>")
    real, samples = snap["real"], snap["samples"]
    fig.add_scatter(x=[p[0] for p in real], y=[p[1] for p in real], mode="markers", name="real data",
                    marker=dict(color=GREEN, size=4, opacity=0.6), hoverinfo="skip")
    fig.add_scatter(x=[p[0] for p in samples], y=[p[1] for p in samples], mode="markers",
                    name=f"samples (T = {snap['temperature']:g})", hoverinfo="skip",
                    marker=dict(color=BLUE, size=5, symbol="x", opacity=0.85))
    fig.add_shape(type="rect", x0=edges_x[x_bin], x1=edges_x[x_bin + 1], y0=y_min, y1=y_max,
                  line=dict(color=BLACK, width=2, dash="dot"))
    fig.update_xaxes(range=[x_min, x_max], showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(range=[y_min, y_max], showgrid=False, zeroline=False, scaleanchor="x", scaleratio=1,
                     constrain="domain")
    return styled(fig, f"Step {snap['step']}: p(x) p(y | x) on a {snap['bins']}×{snap['bins']} grid, real points "
                       "and samples", height=560)


def ar_conditionals_figure(snap: dict) -> go.Figure:
    """Two bar charts against the data's own shares: the marginal p(x) over the x-bins, then p(y | x) over the y-bins
    of the chosen column; the model at T = 1, and at the sampling temperature when that differs."""
    edges_x, edges_y, x_bin, t = snap["bin_edges_x"], snap["bin_edges_y"], snap["x_bin"], snap["temperature"]
    column = f"{edges_x[x_bin]:.2f} ≤ x < {edges_x[x_bin + 1]:.2f}"
    fig = make_subplots(rows=2, cols=1, vertical_spacing=0.2,
                        subplot_titles=("p(x): which column", f"p(y | x-bin {x_bin}), the column {column}"))
    rows = ((1, edges_x, "data_p_x", "p_x", "p_x_temp"),
            (2, edges_y, "data_p_y_given_x", "p_y_given_x", "p_y_given_x_temp"))
    for row, edges, data, model, tempered in rows:
        at = centers(edges)
        bars = [("data", data, GREY), ("model (T = 1)", model, BLUE)]
        if t != 1:
            bars.append((f"model at T = {t:g}", tempered, ORANGE))
        for name, key, color in bars:
            fig.add_bar(x=at, y=snap[key], name=name, legendgroup=name, showlegend=row == 1, marker=dict(color=color),
                        row=row, col=1, hovertemplate="%{x:.2f}: %{y:.2%}<extra>" + name + "</extra>")
        fig.update_yaxes(title="probability", tickformat=".0%", rangemode="tozero", row=row, col=1)
        fig.update_xaxes(range=[edges[0], edges[-1]], row=row, col=1)
    fig.add_vrect(x0=edges_x[x_bin], x1=edges_x[x_bin + 1], line=dict(color=BLACK, width=2, dash="dot"), row=1, col=1)
    if snap["data_p_x"][x_bin] == 0:
        fig.add_annotation(text="the data has no points in this column", x=0.5, y=0.5, xref="x2 domain",
                           yref="y2 domain", showarrow=False, font=dict(color=BLACK))
    fig.update_xaxes(title="x", row=1, col=1)
    fig.update_xaxes(title="y", row=2, col=1)
    fig.update_layout(barmode="group", bargap=0.1)
    return below_legend(styled(fig, f"Step {snap['step']}: the model's two distributions and the data's", height=560))
