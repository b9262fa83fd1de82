"""Pure plotly figure builders for the diffusion tab's views of the network at work: data in, figure out."""
import plotly.graph_objects as go

from genmodels.ui.plots import BLACK, BLUE, GREEN, GREY, ORANGE, PURPLE, SKY, VERMILLION, below_legend, styled

BROWN = "#8C564B"  # an eighth path color that reads on white (Okabe-Ito's yellow does not)
PATH_COLORS = [BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, BLACK, BROWN]
DASHES = ["solid", "dot", "dash", "dashdot"]
THUMBNAILS_PER_SPAN = 7  # a final image's side is the map's larger extent over this


def path_styles(groups: list[str]) -> list[tuple[str, str]]:
    """(color, dash) per path: one color per group and a dash per member when paths come in groups, else one color
    per path."""
    names = list(dict.fromkeys(groups))
    if len(names) == 1:
        return [(PATH_COLORS[i % len(PATH_COLORS)], "solid") for i in range(len(groups))]
    return [(PATH_COLORS[names.index(g) % len(PATH_COLORS)], DASHES[groups[:i].count(g) % len(DASHES)])
            for i, g in enumerate(groups)]


def thumbnail_column(ends: list[tuple[float, float]], side: float) -> list[float]:
    """The top edge of each end's thumbnail in a column, in the order of the ends' heights (so leader lines do
    not cross), centred on the ends and `side` apart with a small gap."""
    order = sorted(range(len(ends)), key=lambda i: -ends[i][1])
    middle = (max(y for _, y in ends) + min(y for _, y in ends)) / 2
    pitch = side * 1.1
    top = middle + pitch * len(ends) / 2
    tops = [0.0] * len(ends)
    for rank, i in enumerate(order):
        tops[i] = top - rank * pitch
    return tops


def map_figure(paths: list[dict], thumbnails: list[str], step: int, timesteps: list[int], explained: list[float],
               title: str) -> go.Figure:
    """Each path's x_t projected to the plane, from pure noise (open circles) to its final image (a thumbnail joined
    to the path's end), with every path's point at `step` marked (step len(timesteps) is the final image)."""
    styles = path_styles([p["group"] for p in paths])
    last = len(timesteps)
    moments = [f"step {i + 1} of {last}: x_t at t = {t}" for i, t in enumerate(timesteps)] + ["the final image"]
    fig = go.Figure()
    for p, (color, dash) in zip(paths, styles):
        xs, ys = zip(*p["points"])
        fig.add_scatter(x=xs, y=ys, mode="lines+markers", name=p["label"], line=dict(color=color, dash=dash, width=2),
                        marker=dict(size=4, color=color), hovertext=[f"{p['label']}<br>{m}" for m in moments],
                        hoverinfo="text")
    starts = [p["points"][0] for p in paths]
    fig.add_scatter(x=[s[0] for s in starts], y=[s[1] for s in starts], mode="markers", name="start: pure noise",
                    marker=dict(size=11, symbol="circle-open", color=BLACK, line=dict(width=2)), hoverinfo="skip")
    marked = [p["points"][step] for p in paths]
    fig.add_scatter(x=[m[0] for m in marked], y=[m[1] for m in marked], mode="markers",
                    name="the marked step" if step < last else "the final images",
                    marker=dict(size=13, color=[c for c, _ in styles], line=dict(width=2, color=BLACK)),
                    hovertext=[f"{p['label']}<br>{moments[step]}" for p in paths], hoverinfo="text")
    points = [q for p in paths for q in p["points"]]
    x_lo, x_hi = min(q[0] for q in points), max(q[0] for q in points)
    y_lo, y_hi = min(q[1] for q in points), max(q[1] for q in points)
    side = max(x_hi - x_lo, y_hi - y_lo, 1e-6) / THUMBNAILS_PER_SPAN
    column = x_hi + side
    ends = [tuple(p["points"][-1]) for p in paths]
    tops = thumbnail_column(ends, side)
    for (x, y), top, source, (color, dash) in zip(ends, tops, thumbnails, styles):
        fig.add_shape(type="line", x0=x, y0=y, x1=column, y1=top - side / 2,
                      line=dict(color=color, width=1, dash="dot"))
        fig.add_layout_image(source=source, xref="x", yref="y", x=column, y=top, sizex=side, sizey=side,
                             xanchor="left", yanchor="top", sizing="stretch", layer="above")
    y_lo, y_hi = min(y_lo, min(tops) - side), max(y_hi, max(tops))
    fig.update_xaxes(title=f"PC1: {explained[0]:.0%} of the spread of all x_t", zeroline=False, constrain="domain",
                     range=[x_lo - side / 2, column + side * 1.2])
    fig.update_yaxes(title=f"PC2: {explained[1]:.0%}", zeroline=False, scaleanchor="x", scaleratio=1,
                     constrain="domain", range=[y_lo - side / 2, y_hi + side / 2])
    fig = below_legend(styled(fig, title, height=640))
    return fig.update_layout(margin=dict(t=95))  # room for a title of three lines


def noise_scatter_figure(noise: list[list[float]], predicted: list[list[float]], correlation: float,
                         t: int) -> go.Figure:
    """Each pixel's true noise against the U-Net's prediction of it, with the line where they would agree."""
    true = [v for row in noise for v in row]
    guess = [v for row in predicted for v in row]
    reach = max(map(abs, true + guess))
    fig = go.Figure()
    fig.add_scatter(x=[-reach, reach], y=[-reach, reach], mode="lines", name="perfect prediction",
                    line=dict(color=GREY, dash="dot"), hoverinfo="skip")
    fig.add_scatter(x=true, y=guess, mode="markers", name="one pixel", marker=dict(size=4, color=BLUE, opacity=0.5),
                    hovertemplate="true ε %{x:.2f}<br>predicted %{y:.2f}<extra></extra>")
    fig.update_xaxes(title="true noise ε", range=[-reach, reach])
    fig.update_yaxes(title="predicted noise ε̂", range=[-reach, reach], scaleanchor="x", scaleratio=1)
    fig.update_layout(showlegend=False)
    title = f"t = {t}: ε̂ against ε, r = {correlation:.3f}<br><sup>a dot per pixel; dotted: ε̂ = ε</sup>"
    return styled(fig, title, height=400)


def noise_correlation_figure(timesteps: list[int], correlations: list[float], noise_levels: list[float], t: int,
                             correlation: float) -> go.Figure:
    """The correlation of predicted and true noise at every timestep of the curve, with the chosen t marked."""
    fig = go.Figure()
    fig.add_scatter(x=timesteps, y=correlations, mode="lines+markers", name="r(ε, ε̂)", marker=dict(size=4),
                    line=dict(color=BLUE, width=2),
                    hovertext=[f"t = {s}: r = {r:.3f}, noise level {n:.3f}"
                               for s, r, n in zip(timesteps, correlations, noise_levels)], hoverinfo="text")
    fig.add_scatter(x=[t], y=[correlation], mode="markers", name=f"t = {t}",
                    marker=dict(size=12, color=ORANGE, line=dict(width=2, color=BLACK)))
    fig.update_xaxes(title="timestep t (more noise →)")
    fig.update_yaxes(title="correlation r", range=[min(0.0, min(correlations)), 1.02])
    fig.update_layout(showlegend=False)
    # the subtitle in two short lines: in presenter mode the chart's column is narrow
    return styled(fig, f"r(ε, ε̂) at every t<br><sup>the same image and noise;</sup><br><sup>t = {t} marked</sup>",
                  height=400)
