"""Pure figure builders for the lab's shared views: modes covered and distance to the data over training, per family."""
import plotly.graph_objects as go

from genmodels.ui.plots import BLUE, GREY, LEGEND_BELOW, PURPLE, VERMILLION, array, figure, look, merged

FAMILY_NAMES = {"diffusion": "Diffusion", "autoregressive": "Autoregressive", "gan": "GAN"}
FAMILY_COLORS = {"diffusion": BLUE, "autoregressive": VERMILLION, "gan": PURPLE}
PLANE_HEIGHT = 320  # three planes side by side on a laptop, one under another on a phone


def stacked_axes(rows: int, spacing: float) -> dict:
    """Layout for `rows` charts stacked top to bottom with `spacing` between them (as make_subplots lays them out):
    axes x, y for the top one, x2, y2 for the next."""
    height = (1 - spacing * (rows - 1)) / rows
    axes = {}
    for row in range(1, rows + 1):
        suffix = "" if row == 1 else str(row)
        top = 1 - (row - 1) * (height + spacing)
        axes[f"xaxis{suffix}"] = {"anchor": f"y{suffix}", "domain": [0.0, 1.0]}
        axes[f"yaxis{suffix}"] = {"anchor": f"x{suffix}", "domain": [max(top - height, 0.0), top]}
    return axes


def level_line(y: float, axis: str) -> dict:
    """A dotted grey line across the chart of y-axis `axis` ("" or "2") at height y."""
    return {"type": "line", "x0": 0, "x1": 1, "xref": f"x{axis} domain", "y0": y, "y1": y, "yref": f"y{axis}",
            "line": {"color": GREY, "dash": "dot"}}


def progress_figure(snapshot: dict) -> go.Figure:
    """Modes covered (for mixtures) and sliced Wasserstein distance against each family's steps, one line each."""
    mixture = snapshot["n_modes"] is not None
    bottom = "2" if mixture else ""  # the distance's axes: under the modes' chart, or alone
    traces = []
    for family, view in snapshot["families"].items():
        progress = view["progress"]
        style = dict(type="scatter", mode="lines+markers", line=dict(color=FAMILY_COLORS[family], width=2),
                     marker=dict(size=4), name=FAMILY_NAMES[family], legendgroup=family, x=array(progress["step"]))
        if mixture:
            traces.append(style | dict(y=array(progress["modes_covered"]), xaxis="x", yaxis="y"))
        traces.append(style | dict(y=array(progress["distance"]), showlegend=not mixture, xaxis=f"x{bottom}",
                                   yaxis=f"y{bottom}"))
    layout = stacked_axes(2 if mixture else 1, 0.12)
    floor = snapshot["distance_floor"]
    shapes = [level_line(floor, bottom)]
    if mixture:
        layout["xaxis"] |= {"matches": "x2", "showticklabels": False}  # the top chart follows the bottom's steps
        layout["yaxis"] |= {"title": {"text": "modes covered"}, "range": [0, snapshot["n_modes"] + 0.5]}
        shapes.insert(0, level_line(snapshot["n_modes"], ""))
    layout[f"yaxis{bottom}"] |= {"title": {"text": "distance to data"}, "rangemode": "tozero"}
    layout[f"xaxis{bottom}"] |= {"title": {"text": "training steps"}}
    layout |= {"shapes": shapes, "annotations": [
        {"text": "real data's own", "showarrow": False, "x": 1, "xanchor": "right", "xref": f"x{bottom} domain",
         "y": floor, "yanchor": "bottom", "yref": f"y{bottom}"}]}
    title = look("Every family measured alike", height=440 if mixture else 320)
    return figure(traces, merged(layout, title, LEGEND_BELOW))


def sized(plane: dict, title: str) -> go.Figure:
    """A family's plane (a figure's dict) at the lab's size, with its own short title, its legend under it, its
    toolbar down the side and no colour bar (the GAN's background is named in its legend)."""
    traces = [trace | {"showscale": False} if trace["type"] == "heatmap" else trace for trace in plane["data"]]
    return figure(traces, merged(plane["layout"], {
        "height": PLANE_HEIGHT, "title": {"text": title}, "margin": {"l": 36, "r": 8, "t": 70, "b": 36},
        "modebar": {"orientation": "v"},  # a narrow plane's toolbar would lie across its title
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": -0.08, "yanchor": "top"}}))
