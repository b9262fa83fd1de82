"""Pure plotly figure builders for the GAN tab: data in, figure out (Okabe-Ito colors, color-blind safe)."""
import plotly.graph_objects as go

from genmodels.ui.plots import (
    BLACK,
    BLUE,
    GREEN,
    GREY,
    LEGEND_BELOW,
    ORANGE,
    SKY,
    VERMILLION,
    array,
    below_legend,
    figure,
    look,
    merged,
    square_axes,
    styled,
)

DARK_GREEN = "#00654A"  # Okabe-Ito's bluish green, darkened: real points stay readable on the heat map's orange
PUSH_GREY = "#555555"
# D's P(real) as a background: ColorBrewer's PuOr (color-blind safe) without its darkest ends, so points stay readable
D_SCALE = [[0, "#8073ac"], [0.25, "#d8daeb"], [0.5, "#f7f7f7"], [0.75, "#fee0b6"], [1, "#f1a340"]]


def training_curves_figure(history: dict, title: str, keys=("loss_d", "loss_g", "d_real", "d_fake")) -> go.Figure:
    """D and G losses and the discriminator's mean outputs D(x), D(G(z)) against step (history: lists by key)."""
    d_loss, g_loss, d_real, d_fake = keys
    steps = array(history["step"])
    curves = ((d_loss, "D loss", "y", dict(color=BLUE, width=1.5)),
              (g_loss, "G loss", "y", dict(color=ORANGE, width=1.5)),
              (d_real, "D(x) on real", "y2", dict(color=GREEN, width=1, dash="dot")),
              (d_fake, "D(G(z)) on fakes", "y2", dict(color=VERMILLION, width=1, dash="dot")))
    traces = [dict(type="scatter", x=steps, y=array(history[key]), name=name, mode="lines", yaxis=axis, line=line)
              for key, name, axis, line in curves]
    axes = {"yaxis": {"title": {"text": "loss"}},
            "yaxis2": {"title": {"text": "mean P(real)"}, "overlaying": "y", "side": "right", "range": [0, 1]},
            "xaxis": {"title": {"text": "step"}}}
    # the legend under the chart: four entries wrap over the title in a narrow column
    return figure(traces, merged(axes, look(title, height=420), LEGEND_BELOW))


def latent_norms_figure(linear: list[float], spherical: list[float], typical: float) -> go.Figure:
    """|z| along the linear and the spherical path, against the typical norm sqrt(d) of Gaussian latents."""
    frames = list(range(1, len(linear) + 1))
    fig = go.Figure()
    fig.add_scatter(x=frames, y=linear, name="linear", mode="lines+markers", line=dict(color=ORANGE))
    fig.add_scatter(x=frames, y=spherical, name="spherical", mode="lines+markers", line=dict(color=BLUE))
    fig.add_hline(y=typical, line=dict(color=GREY, dash="dot"), annotation_text="√d: where Gaussian latents live",
                  annotation_position="bottom right")
    fig.update_xaxes(title="frame")
    fig.update_yaxes(title="|z|", rangemode="tozero")
    return styled(fig, "|z| along each path", height=300)


def p_real_histogram_figure(real: list[float], fake: list[float], title: str) -> go.Figure:
    """Histograms of the discriminator's P(real) on real images and on generated ones."""
    fig = go.Figure()
    bins = dict(start=0, end=1, size=0.05)
    fig.add_histogram(x=real, name="real Fashion-MNIST", xbins=bins, marker=dict(color=BLUE), opacity=0.7)
    fig.add_histogram(x=fake, name="generated", xbins=bins, marker=dict(color=ORANGE), opacity=0.7)
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title="discriminator's P(real)", range=[0, 1])
    fig.update_yaxes(title="images")
    return below_legend(styled(fig, title, height=380))  # on a phone a legend on top covered the title


def class_histograms_figure(names: list[str], histograms: dict[str, list[float]]) -> go.Figure:
    """Grouped bars: the share of each class among each generator's samples, as judged by the classifier."""
    colors = [BLUE, VERMILLION, GREY, SKY]
    fig = go.Figure()
    for (label, shares), color in zip(histograms.items(), colors):
        fig.add_bar(x=names, y=shares, name=label, marker=dict(color=color))
    fig.add_hline(y=0.1, line=dict(color=GREY, dash="dot"), annotation_text="uniform (10%)")
    fig.update_yaxes(title="share of samples", tickformat=".0%", rangemode="tozero")
    fig.update_layout(barmode="group")
    return styled(fig, "Which classes the generators draw<br><sup>judged by the classifier</sup>", height=340)


def arrow_segments(points: list, vectors: list, longest: float, head: float = 0.3) -> tuple[list, list]:
    """Arrows from each point along its vector as None-broken line segments (plotly's way to draw many in one trace):
    a shaft of length longest * sqrt(|v| / max |v|), so weak pushes stay visible, and two head strokes of `head`
    times the shaft at +-25 degrees. Points or vectors with a None (non-finite) and pushes under 5% of the strongest
    are skipped."""
    pairs = [(p, v) for p, v in zip(points, vectors) if None not in p and None not in v]
    norms = [(v[0] ** 2 + v[1] ** 2) ** 0.5 for _, v in pairs]
    biggest = max(norms + [1e-12])
    cos, sin = 0.906, 0.423  # cos and sin of 25 degrees
    xs, ys = [], []
    for ((px, py), (vx, vy)), norm in zip(pairs, norms):
        if norm < 0.05 * biggest:
            continue
        length = longest * (norm / biggest) ** 0.5
        ux, uy = vx / norm, vy / norm  # unit direction
        tx, ty = px + length * ux, py + length * uy  # the tip
        back = head * length
        left = (tx - back * (cos * ux - sin * uy), ty - back * (sin * ux + cos * uy))
        right = (tx - back * (cos * ux + sin * uy), ty - back * (-sin * ux + cos * uy))
        xs += [px, tx, None, left[0], tx, right[0], None]
        ys += [py, ty, None, left[1], ty, right[1], None]
    return xs, ys


def trail_lines(trail: list, fake: list) -> tuple[list, list]:
    """Each generated point's earlier positions (trail (T, N, 2), oldest first) joined to its current one, as one
    None-broken polyline; points with a None position are left out."""
    xs, ys = [], []
    if not len(trail):
        return xs, ys
    for path in zip(*trail, fake):  # one point's positions, oldest first
        if any(None in p for p in path):
            continue
        xs += [p[0] for p in path] + [None]
        ys += [p[1] for p in path] + [None]
    return xs, ys


def stride(count: int, at_most: int) -> int:
    """The step that keeps at most `at_most` of `count` items."""
    return max(1, -(-count // at_most))


def toy_plane(snapshot: dict, arrows: int = 48, trails: int = 128, points: int = 256) -> dict:
    """The live 2-D GAN as a figure's dict: D's P(real) over the plane as a heat map, the trails of a subset of the
    generated points and where G's loss pushes another subset, under up to `points` real and generated points each
    (every marker costs a phone's browser time at each redraw); the colour scale and the legend sit under the plane,
    so a phone's narrow width goes to the plane."""
    x_min, x_max = snapshot["extent"][:2]
    fake, push = snapshot["fake"], snapshot["push"]
    heatmap = dict(type="heatmap", x=array(snapshot["grid_x"]), y=array(snapshot["grid_y"]),
                   z=array(snapshot["d_grid"]), zmin=0, zmax=1, colorscale=D_SCALE, hoverinfo="skip",
                   colorbar=dict(title=dict(text="background: D's P(real)", side="top"), orientation="h", x=0.5,
                                 xanchor="center", y=-0.08, yanchor="top", lenmode="pixels", len=260, thickness=8,
                                 ypad=0, tickvals=[0, 0.5, 1], ticktext=["0: fake", "0.5", "1: real"]))
    every = stride(len(fake), trails)
    trail_xs, trail_ys = trail_lines([positions[::every] for positions in snapshot.get("trail", [])], fake[::every])
    every = stride(len(fake), arrows)
    push_xs, push_ys = arrow_segments(fake[::every], push[::every], longest=0.12 * (x_max - x_min))
    real = array(snapshot["real"][::stride(len(snapshot["real"]), points)])  # (n, 2)
    fake = array(fake[::stride(len(fake), points)])  # (n, 2)
    traces = [heatmap,
              dict(type="scatter", x=array(trail_xs), y=array(trail_ys), mode="lines", name="trails",
                   line=dict(color=VERMILLION, width=1), opacity=0.35, hoverinfo="skip"),
              dict(type="scatter", x=array(push_xs), y=array(push_ys), mode="lines", name="G's push",
                   line=dict(color=PUSH_GREY, width=1.2), opacity=0.8, hoverinfo="skip"),
              dict(type="scatter", x=real[:, 0], y=real[:, 1], mode="markers", name="real data",
                   marker=dict(color=DARK_GREEN, size=5, line=dict(color="white", width=0.5))),
              dict(type="scatter", x=fake[:, 0], y=fake[:, 1], mode="markers", name="generated",
                   marker=dict(color=VERMILLION, size=6, symbol="diamond", line=dict(color=BLACK, width=1)))]
    # 440 px, about 300 of them the square plane: in presenter mode (x1.35) the sub-tabs, the buttons above it and
    # the whole figure fit a 720 px screen, and a phone's plane stays about as wide as before
    title = f"Step {snapshot['step']:,}: where D says 'real'"
    layout = merged(square_axes(snapshot["extent"]), look(title, height=440),
                    {"margin": {"l": 36, "r": 12, "t": 32, "b": 104},
                     "legend": {"orientation": "h", "x": 0.5, "xanchor": "center", "y": -0.24, "yanchor": "top"}})
    return {"data": traces, "layout": layout}


def toy_figure(snapshot: dict) -> go.Figure:
    """The live 2-D GAN's plane (toy_plane) as a figure."""
    return go.Figure(toy_plane(snapshot))


def mesh_lines(points: list) -> tuple[list, list]:
    """The grid's rows and then its columns (points (rows, size, 2)) as one None-broken polyline; a single row has no
    columns to draw."""
    rows = list(points)
    columns = [list(column) for column in zip(*points)] if len(points) > 1 else []
    xs, ys = [], []
    for line in rows + columns:
        xs += [p[0] for p in line] + [None]
        ys += [p[1] for p in line] + [None]
    return xs, ys


def manifold_title(view: dict) -> str:
    """What the mesh is a picture of: all of G's input, or a slice through it."""
    d = view["latent_dim"]
    if d == 1:
        shown = "the line of its one noise coordinate, bent by G"
    elif view["is_slice"]:
        shown = f"a 2-D slice, z = (z₁, z₂, 0, …, 0) of {d} noise coordinates"
    else:
        shown = "the square grid of its noise (z₁, z₂), bent by G"
    return f"Step {view['step']}: G's manifold<br><sup>{shown}</sup>"


def manifold_figure(view: dict, points: int = 256) -> go.Figure:
    """The generator's manifold (GAN Lab's view): a grid over its latent space mapped through G and drawn as a warped
    mesh over at most `points` real points; equal shares of the noise fall in every cell, so crowded cells are where G
    draws most."""
    real = array(view["real"][::stride(len(view["real"]), points)])  # (n, 2)
    xs, ys = mesh_lines(view["points"])
    traces = [dict(type="scatter", x=real[:, 0], y=real[:, 1], mode="markers", name="real data",
                   marker=dict(color=DARK_GREEN, size=4, opacity=0.6), hoverinfo="skip"),
              dict(type="scatter", x=array(xs), y=array(ys), mode="lines", name="G(grid of noise)",
                   line=dict(color=BLUE, width=1), hoverinfo="skip")]
    layout = merged(square_axes(view["extent"]), look(manifold_title(view), height=560), LEGEND_BELOW)
    return figure(traces, layout)  # the legend under the mesh: on top it covered the subtitle


def snapshot_manifold_figure(snapshot: dict) -> go.Figure:
    """G's manifold from a toy GAN snapshot's to_dict() (the live GAN's or the lab's GAN's)."""
    return manifold_figure(snapshot["manifold"] | {key: snapshot[key] for key in ("extent", "real", "step")})
