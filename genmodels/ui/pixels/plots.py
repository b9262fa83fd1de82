"""Pure plotly builders for the pixel tab's view of the network at work: data in, figure out."""
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from genmodels.ui.plots import BLUE, styled

# clear to vermillion over the image; faint weights get a visible tint (the hover says each one's value)
GAZE_COLORS = [[0, "rgba(213, 94, 0, 0)"], [0.1, "rgba(213, 94, 0, 0.35)"], [1, "rgba(213, 94, 0, 0.95)"]]
SIDE = list(range(1, 29))  # rows and columns, 1-based as the captions count them


def gaze_figure(rgb: list, mean: list, maps: list, index: int) -> go.Figure:
    """Attention from the position that predicts pixel `index` (0-based) over the pixels drawn before it, painted over
    the image `rgb` (28, 28, 3): the mean of the blocks large, each block (`maps`, heads averaged) small, the pixel
    filled blue. Each panel's strongest weight is full vermillion; undrawn pixels carry none."""
    blocks = len(maps)
    cols = -(-blocks // 2)
    titles = ["mean of the blocks"] + [f"block {b + 1}" for b in range(blocks)]
    fig = make_subplots(rows=2, cols=cols + 1, specs=[[{"rowspan": 2}] + [{}] * cols, [None] + [{}] * cols],
                        column_widths=[0.5] + [0.5 / cols] * cols, subplot_titles=titles, horizontal_spacing=0.04,
                        vertical_spacing=0.12)
    panels = [(mean, 1, 1)] + [(m, 1 + b // cols, 2 + b % cols) for b, m in enumerate(maps)]
    row, col = index // 28 + 1, index % 28 + 1
    for weights, r, c in panels:
        drawn = [[w if 28 * (y - 1) + x - 1 < index else None for x, w in zip(SIDE, line)]
                 for y, line in zip(SIDE, weights)]  # the pixel and those after it are not drawn yet
        top = max((w for line in drawn for w in line if w is not None), default=0) or 1
        fig.add_trace(go.Image(z=rgb, x0=1, y0=1, hoverinfo="skip"), row=r, col=c)
        fig.add_trace(go.Heatmap(z=drawn, x=SIDE, y=SIDE, colorscale=GAZE_COLORS, zmin=0, zmax=top, showscale=False,
                                 hoverongaps=False, hovertemplate="row %{y}, column %{x}: %{z:.2%}<extra></extra>"),
                      row=r, col=c)
        fig.add_shape(type="rect", x0=col - 0.5, x1=col + 0.5, y0=row - 0.5, y1=row + 0.5, fillcolor=BLUE,
                      line=dict(width=0), row=r, col=c)  # the pixel being predicted
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", constrain="domain")
    for n in range(1, blocks + 2):  # each panel square
        fig.layout[f"yaxis{n if n > 1 else ''}"].scaleanchor = f"x{n if n > 1 else ''}"
    fig.update_annotations(font_size=12)
    fig = styled(fig, f"Predicting pixel {index + 1} (blue)", height=420)
    return fig.update_layout(margin=dict(l=10, r=10, t=80, b=10))
