"""Pure plotly figure builders: data in, figure out. Colors are from the Okabe-Ito color-blind-safe palette."""
import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

BLUE, ORANGE, VERMILLION, SKY, GREY, BLACK = "#0072B2", "#E69F00", "#D55E00", "#56B4E9", "#BBBBBB", "#000000"
GREEN, PURPLE = "#009E73", "#CC79A7"
MAX_TICK_LABELS = 20  # token labels an axis shows before it labels only every n-th token
FONT = dict(family="Inter, system-ui, sans-serif", size=13)
# Every figure of the app takes plotly's white template as the default: named on each figure, the template is
# checked anew for each one, which made a small figure nearly twice as slow to build (the lab redraws several a second).
pio.templates.default = "plotly_white"
# Token labels lie flat when they fit, else turn to 45°, else stand upright: on a 390 px phone 20 labels at 45°
# overlapped, upright they fit. Plotly picks the first angle at which they do not overlap, in the browser, at the drawn
# width.
TOKEN_TICK_ANGLES = [0, -45, -90]


def array(values) -> np.ndarray:
    """A trace's numbers as float32, None as NaN (a gap in a line): plotly checks an array at once where it walks a
    list number by number, and sends it to the page as base64, half the size of float64's."""
    return np.asarray(values, dtype=np.float32)


def show_token(token: str) -> str:
    """A token with its whitespace made visible: space as ␣, newline as ↵, tab as →."""
    shown = token.replace(" ", "␣").replace("\n", "↵").replace("\t", "→")
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in shown) or "∅"


def merged(base: dict, *changes: dict) -> dict:
    """`base` with each of `changes` laid over it in turn, nested dicts merged key by key (update_layout's rule); none
    of them changed."""
    out = dict(base)
    for change in changes:
        for key, value in change.items():
            out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def look(title: str, height: int = 360) -> dict:
    """The app's look for every figure, as layout: title, font, horizontal legend on top (the template is the
    default, white)."""
    return {"title": {"text": title, "x": 0.01}, "height": height, "font": FONT,
            "margin": {"l": 50, "r": 20, "t": 60, "b": 70},
            "legend": {"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"}}


# the legend at the figure's bottom edge, under the axis title, where a long one does not cover the title: placed by
# a share of the plot's height it met the axis title on a short chart
LEGEND_BELOW = {"legend": {"orientation": "h", "x": 0, "xanchor": "left", "yref": "container", "y": 0,
                           "yanchor": "bottom"}, "margin": {"b": 130}}


def square_axes(extent) -> dict:
    """Axes fixed to the extent (x_min, x_max, y_min, y_max) with one unit as long on both, as layout."""
    x_min, x_max, y_min, y_max = extent
    return {"xaxis": {"range": [x_min, x_max], "showgrid": False, "zeroline": False, "constrain": "domain"},
            "yaxis": {"range": [y_min, y_max], "showgrid": False, "zeroline": False, "scaleanchor": "x",
                      "scaleratio": 1, "constrain": "domain"}}


def figure(traces: list[dict], layout: dict) -> go.Figure:
    """A figure made in one go from plain traces (each naming its type) and layout. Plotly checks a whole dict several
    times faster than it applies add_trace and update_layout calls one by one (docs/performance.md), and the live
    trainings redraw several figures a second for every student."""
    return go.Figure({"data": traces, "layout": layout})


def styled(fig: go.Figure, title: str, height: int = 360) -> go.Figure:
    """The app's look (`look`) on a figure built call by call."""
    return fig.update_layout(look(title, height))


def token_axis(x: list[int], labels: list[str]) -> dict:
    """An x axis labelled with tokens, turned only as far as the chart's width needs, the margin growing to fit them."""
    return {"tickmode": "array", "tickvals": x, "ticktext": labels, "autotickangles": TOKEN_TICK_ANGLES,
            "automargin": True}


def below_legend(fig: go.Figure) -> go.Figure:
    """Move the legend under the plot (LEGEND_BELOW) on a figure built call by call."""
    return fig.update_layout(LEGEND_BELOW)


def distribution_figure(candidates: list[dict], title: str = "Next-token distribution") -> go.Figure:
    """Grouped bars per candidate: the model's probability (T = 1) and the adjusted one; removed tokens grey,
    the sampled token outlined and marked."""
    x = list(range(len(candidates)))
    labels = [show_token(c["token"]) for c in candidates]
    kept = [c["kept"] for c in candidates]
    outline = [3 if c["sampled"] else 0 for c in candidates]
    hover = [f"{show_token(c['token'])} (id {c['id']})<br>model {c['model_prob']:.2%}<br>adjusted (temperature, "
             f"top-k, top-p) {c['adjusted_prob']:.2%}<br>{'kept' if c['kept'] else 'removed by top-k / top-p'}"
             for c in candidates]
    border = dict(width=outline, color=BLACK)
    traces = [dict(type="bar", x=x, y=[c["model_prob"] for c in candidates], name="model (T = 1)", hovertext=hover,
                   hoverinfo="text", marker=dict(color=[BLUE if k else GREY for k in kept], line=border)),
              # a short name: the legend stays one row on a phone, under the title instead of wrapping over it
              dict(type="bar", x=x, y=[c["adjusted_prob"] for c in candidates], name="adjusted", hovertext=hover,
                   hoverinfo="text", marker=dict(color=[ORANGE if k else GREY for k in kept], line=border,
                                                 pattern=dict(shape=["" if k else "/" for k in kept])))]
    marks = [dict(x=i, y=max(c["model_prob"], c["adjusted_prob"]), text="sampled", showarrow=True, arrowhead=2, ay=-30,
                  font=dict(color=BLACK)) for i, c in enumerate(candidates) if c["sampled"]]
    layout = {"annotations": marks, "xaxis": token_axis(x, labels),
              "yaxis": {"title": {"text": "probability"}, "tickformat": ".2~%", "rangemode": "tozero"},
              "barmode": "group", "bargap": 0.2}
    return figure(traces, merged(layout, look(title)))


def cumulative_figure(tokens: list[str], probs: list[float], cumulative: list[float], top_p: float,
                      crossing_rank: int) -> go.Figure:
    """Top-p's view: candidates sorted by probability (after temperature and top-k), their running total,
    and the line at p; tokens up to and including the one that crosses p are kept."""
    x = list(range(len(tokens)))
    kept = [i <= crossing_rank for i in x]
    shown = [show_token(t) for t in tokens]
    traces = [dict(type="bar", x=x, y=probs, name="probability",
                   marker=dict(color=[ORANGE if k else GREY for k in kept]),
                   hovertext=[f"{t}: {p:.2%}" for t, p in zip(shown, probs)], hoverinfo="text"),
              dict(type="scatter", x=x, y=cumulative, name="cumulative", mode="lines+markers",
                   line=dict(color=BLUE, width=2))]
    every = -(-len(x) // MAX_TICK_LABELS)  # up to 60 tokens: label every n-th so the labels never overlap
    layout = {"shapes": [dict(type="line", x0=0, x1=1, xref="x domain", y0=top_p, y1=top_p, yref="y",
                              line=dict(color=VERMILLION, dash="dash"))],
              "annotations": [dict(text=f"top-p = {top_p:g}", showarrow=False, x=1, xanchor="right", xref="x domain",
                                   y=top_p, yanchor="top", yref="y")],
              "xaxis": token_axis(x[::every], shown[::every]),
              "yaxis": {"title": {"text": "probability"}, "tickformat": ".0%", "range": [0, 1.05]}}
    # one short line: a second one met the legend, a longer one was cut on a phone
    kept = crossing_rank + 1
    title = f"Top-p: {kept} kept where the total reaches p" if crossing_rank < len(tokens) else \
        f"Top-p: {kept} kept, more than shown"
    return figure(traces, merged(layout, look(title)))


def surprisal_figure(tokens: list[str], bits: list[float]) -> go.Figure:
    """Per-token surprisal -log2 p as bars, one per token, in reading order."""
    x = list(range(len(tokens)))
    fig = go.Figure()
    fig.add_bar(x=x, y=bits, marker=dict(color=bits, colorscale="Cividis", cmin=0, cmax=max(12.0, max(bits, default=0)),
                                         colorbar=dict(title="bits")),
                hovertext=[f"{show_token(t)}: {b:.2f} bits (p = {2 ** -b:.2%})" for t, b in zip(tokens, bits)],
                hoverinfo="text")
    fig.update_xaxes(tickmode="array", tickvals=x, ticktext=[show_token(t) for t in tokens], tickangle=-60)
    fig.update_yaxes(title="surprisal (bits)", rangemode="tozero")
    return styled(fig, "Surprisal per token: -log₂ P(token | everything before it)")


def loss_curves_figure(log: dict, title: str = "Training", y_title: str = "cross-entropy (nats / token)",
                       val_name: str = "held-out plays", scale: float = 1.0) -> go.Figure:
    """Train loss, and validation loss when the log has it, against step, from a JSON training log; each loss
    multiplied by `scale` (1 / ln 2 turns nats into bits)."""
    fig = go.Figure()
    fig.add_scatter(x=log["train"]["step"], y=[v * scale for v in log["train"]["loss"]], name="train", mode="lines",
                    line=dict(color=SKY, width=1))
    if "val" in log:
        fig.add_scatter(x=log["val"]["step"], y=[v * scale for v in log["val"]["loss"]], name=val_name,
                        mode="lines+markers", line=dict(color=VERMILLION, width=2))
    fig.update_xaxes(title="step")
    fig.update_yaxes(title=y_title)
    return styled(fig, title, height=320)


def noise_levels_figure(timesteps: list[int], noise_levels: list[float]) -> go.Figure:
    """The noise level sqrt(1 - abar_t) of x_t at each sampling step: how fast the chosen steps remove noise."""
    steps = list(range(1, len(timesteps) + 1))
    signal = [(1 - n * n) ** 0.5 for n in noise_levels]
    hover = [f"step {s}: t = {t}" for s, t in zip(steps, timesteps)]
    fig = go.Figure()
    fig.add_scatter(x=steps, y=noise_levels, name="noise  √(1 − ᾱₜ)", mode="lines+markers", hovertext=hover,
                    line=dict(color=VERMILLION, width=2), marker=dict(size=4))
    fig.add_scatter(x=steps, y=signal, name="signal  √ᾱₜ", mode="lines+markers", hovertext=hover,
                    line=dict(color=BLUE, width=2), marker=dict(size=4))
    fig.update_xaxes(title="sampling step")
    fig.update_yaxes(title="weight in xₜ", range=[0, 1.05])  # short: a long one ran up into the title
    return below_legend(styled(fig, "Noise left at each step", height=360))  # short: it shares a narrow row


def schedule_figure(signal: list[float], noise: list[float], t: int) -> go.Figure:
    """sqrt(abar_t) and sqrt(1 - abar_t) over all T timesteps, with the chosen t marked."""
    x = list(range(len(signal)))
    fig = go.Figure()
    fig.add_scatter(x=x, y=signal, name="√ᾱₜ (signal kept)", mode="lines", line=dict(color=BLUE, width=2))
    fig.add_scatter(x=x, y=noise, name="√(1 − ᾱₜ) (noise added)", mode="lines", line=dict(color=VERMILLION, width=2))
    fig.add_vline(x=t, line=dict(color=BLACK, dash="dot"), annotation_text=f"t = {t}")
    fig.update_xaxes(title="timestep t")
    fig.update_yaxes(range=[0, 1.05])
    return below_legend(styled(fig, "The cosine schedule<br><sup>xₜ = √ᾱₜ x₀ + √(1 − ᾱₜ) ε</sup>", height=360))


def similarity_figure(names: list[str], similarity: list[float]) -> go.Figure:
    """Cosine similarity of a prompt's vector with each class prototype, as horizontal bars."""
    best = max(range(len(similarity)), key=similarity.__getitem__)
    colors = [ORANGE if i == best else SKY for i in range(len(names))]
    fig = go.Figure(go.Bar(x=similarity, y=names, orientation="h", marker=dict(color=colors),
                           hovertext=[f"{n}: {s:.3f}" for n, s in zip(names, similarity)], hoverinfo="text"))
    fig.update_xaxes(title="cosine similarity", range=[min(0.0, min(similarity)) - 0.05, 1.0])
    fig.update_yaxes(autorange="reversed", tickmode="array", tickvals=names, ticktext=names)
    return styled(fig, f"Nearest class: {names[best]}", height=340)  # short: it shares a narrow column
