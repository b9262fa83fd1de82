"""Pure plotly figure builders for the Compare tab: quality against speed, and the training curves together."""
import math

import plotly.graph_objects as go

from genmodels.ui.plots import BLUE, GREEN, GREY, ORANGE, PURPLE, SKY, VERMILLION, below_legend, styled

RATIO_TICKS = [0.125, 0.25, 0.5, 1, 2, 4, 8, 16, 32]  # a log axis labelled at powers of two, not at every minor tick


def quality_speed_figure(report: dict) -> go.Figure:
    """Frechet distance against seconds per sample: diffusion as a curve over step counts, GAN and pixels as
    points, the real-train versus real-test distance as the floor."""
    fig = go.Figure()
    rows = report["diffusion"]
    fig.add_scatter(x=[r["seconds_per_sample"] for r in rows], y=[r["frechet_distance"] for r in rows],
                    mode="lines+markers+text", text=[f"{r['steps']} steps" for r in rows],
                    textposition=[("top center", "bottom center")[i % 2] for i in range(len(rows))],
                    name="diffusion (DDIM, guidance 3)", line=dict(color=BLUE, width=2))
    for key, name, color, symbol in (("gan", "GAN", VERMILLION, "diamond"),
                                     ("pixels", "pixel autoregressive", GREEN, "square")):
        entry = report[key]
        fig.add_scatter(x=[entry["seconds_per_sample"]], y=[entry["frechet_distance"]], mode="markers+text",
                        text=[name], textposition="bottom center", name=name,
                        marker=dict(color=color, size=13, symbol=symbol))
    floor = report["frechet_floor_real_train_vs_real_test"]
    fig.add_hline(y=floor, line=dict(color=GREY, dash="dot"),
                  annotation_text=f"real train vs real test: {floor:.1f}", annotation_position="bottom right")
    # a decade of room either side, and labels drawn past the axes, so no point's label is cut at the edge
    seconds = [r["seconds_per_sample"] for r in rows] + [report[key]["seconds_per_sample"] for key in ("gan", "pixels")]
    fig.update_traces(cliponaxis=False)
    fig.update_xaxes(title="seconds per sample (batch 1, log scale)", type="log",
                     range=[math.log10(min(seconds)) - 0.5, math.log10(max(seconds)) + 0.5])
    fig.update_yaxes(title="Frechet distance (lower is better)", rangemode="tozero")
    # the machine's name on a line of its own: on one line it ran past a half-width chart's edge
    title = f"Quality against speed<br><sup>measured on {report['device_name']}</sup>"
    return below_legend(styled(fig, title, height=460))


def relative(values: list[float], tail: float = 0.2) -> list[float]:
    """Each value divided by the mean of the last `tail` fraction: every curve ends near 1."""
    last = values[-max(1, int(len(values) * tail)):]
    scale = abs(sum(last) / len(last)) or 1.0
    return [v / scale for v in values]


def training_curves_figure(curves: dict[str, tuple[list[int], list[float]]]) -> go.Figure:
    """Every family's training loss against the fraction of its training, each scaled to end near 1."""
    colors = [BLUE, ORANGE, VERMILLION, GREEN, SKY, PURPLE]
    fig = go.Figure()
    for (name, (steps, values)), color in zip(curves.items(), colors):
        last = steps[-1] or 1
        fig.add_scatter(x=[s / last for s in steps], y=relative(values), name=name, mode="lines",
                        line=dict(color=color, width=1.5))
    fig.add_hline(y=1, line=dict(color=GREY, dash="dot"))
    fig.update_xaxes(title="fraction of training", range=[0, 1])
    # a short axis title: "loss ÷ its mean over the last fifth" ran up into the chart's title
    fig.update_yaxes(title="loss ÷ its final level", type="log", tickvals=RATIO_TICKS,
                     ticktext=[f"{v:g}" for v in RATIO_TICKS], minor=dict(showgrid=False))
    return below_legend(styled(fig, "Training losses<br><sup>each scaled to end near 1</sup>", height=460))
