"""Pure figure builders for the lab's shared views: modes covered and distance to the data over training, per family."""
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from genmodels.ui.plots import BLUE, GREY, PURPLE, VERMILLION, below_legend, styled

FAMILY_NAMES = {"diffusion": "Diffusion", "autoregressive": "Autoregressive", "gan": "GAN"}
FAMILY_COLORS = {"diffusion": BLUE, "autoregressive": VERMILLION, "gan": PURPLE}
PLANE_HEIGHT = 320  # three planes side by side on a laptop, one under another on a phone


def progress_figure(snapshot: dict) -> go.Figure:
    """Modes covered (for mixtures) and sliced Wasserstein distance against each family's steps, one line each."""
    mixture = snapshot["n_modes"] is not None
    rows = 2 if mixture else 1
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.12)
    for family, view in snapshot["families"].items():
        progress = view["progress"]
        style = dict(mode="lines+markers", line=dict(color=FAMILY_COLORS[family], width=2), marker=dict(size=4))
        if mixture:
            fig.add_scatter(x=progress["step"], y=progress["modes_covered"], name=FAMILY_NAMES[family],
                            legendgroup=family, row=1, col=1, **style)
        fig.add_scatter(x=progress["step"], y=progress["distance"], name=FAMILY_NAMES[family], legendgroup=family,
                        showlegend=not mixture, row=rows, col=1, **style)
    if mixture:
        fig.add_hline(y=snapshot["n_modes"], line=dict(color=GREY, dash="dot"), row=1, col=1)
        fig.update_yaxes(title="modes covered", range=[0, snapshot["n_modes"] + 0.5], row=1, col=1)
    fig.add_hline(y=snapshot["distance_floor"], line=dict(color=GREY, dash="dot"), row=rows, col=1,
                  annotation_text="real data's own", annotation_position="top right")
    fig.update_yaxes(title="distance to data", rangemode="tozero", row=rows, col=1)
    fig.update_xaxes(title="training steps", row=rows, col=1)
    return below_legend(styled(fig, "Every family measured alike", height=440 if mixture else 320))


def sized(fig: go.Figure, title: str) -> go.Figure:
    """A family's plane at the lab's size, with its own short title, its legend under it, its toolbar down the side
    and no colour bar (the GAN's background is named in its legend)."""
    fig.update_traces(showscale=False, selector=dict(type="heatmap"))
    fig.update_layout(height=PLANE_HEIGHT, title=dict(text=title), margin=dict(l=36, r=8, t=70, b=36),
                      modebar=dict(orientation="v"),  # a narrow plane's toolbar would lie across its title
                      legend=dict(orientation="h", x=0, xanchor="left", y=-0.08, yanchor="top"))
    return fig
