"""UI adapters for the DCGAN views: validate widget values, run genmodels.gan, return pictures, plots and text."""
import math
from functools import cache
from pathlib import Path

import gradio as gr
import numpy as np
import torch
from PIL import Image

from genmodels.checkpoint import read_log
from genmodels.data.fashion_mnist import CLASS_NAMES
from genmodels.eval.metrics import class_histogram, entropy_bits
from genmodels.gan.latent import latent_walk, sample_latents
from genmodels.gan.pretrained import ASSET_DIR, KINDS, generate, p_real
from genmodels.runtime import timer
from genmodels.ui import gan_plots, images, validate
from genmodels.ui.gan_api import MAX_DISCRIMINATED, MAX_SAMPLES, discriminate, gan_model, interpolate
from genmodels.ui.hosting import QUICK, on_gpu
from genmodels.ui.judge import judged
from genmodels.ui.plots import BLACK

MAX_WALK_POINTS = 8
MAX_FRAMES_PER_LEG = 24
EXTREMES = 8  # generated images shown at each end of the P(real) ranking
COMPARE_SHOWN = 16  # samples of each generator shown side by side


def captions(p: torch.Tensor, verdicts: list[dict]) -> list[str]:
    """'0.62 · Sneaker' under each image: the discriminator's P(real), then the judge's verdict (from judged())."""
    return [f"{q:.2f}" + (f" · {v['class']}" if v else "") for q, v in zip(p.tolist(), verdicts or [None] * len(p))]



@on_gpu(QUICK)
def on_sample(kind, seed, count):
    """A grid of generated images captioned with P(real) and the judge's verdict; remembers the seed for picking."""
    gan = gan_model(kind)
    seed = validate.seed(seed)
    count = validate.number(count, "Number of images", 1, MAX_SAMPLES, integer=True)
    with timer() as elapsed:
        x = generate(gan, sample_latents(seed, count, gan.config.latent_dim))  # (count, 1, 28, 28)
    p = p_real(gan, x)
    stats = (f"**{count} images** from seed {seed} in {elapsed.milliseconds:.0f} ms (one generator pass). "
             f"Mean P(real) from this generator's own discriminator: {p.mean():.2f}. "
             "Click an image to make it end A or B of the interpolation below.")
    return images.gallery(x, captions(p, judged(x))), stats, seed


def on_pick(end, grid_seed, evt: gr.SelectData):
    """Clicking grid image i sets end A or B of the interpolation to (the grid's seed, i)."""
    if grid_seed is None:
        return gr.skip(), gr.skip(), gr.skip(), gr.skip()
    index = int(evt.index)
    if end == "A":
        return grid_seed, index, gr.skip(), gr.skip()
    return gr.skip(), gr.skip(), grid_seed, index


def strip(x: torch.Tensor, columns: int = 16) -> Image.Image:
    """Frames (F, 1, 28, 28) as rows of at most `columns` pictures, left to right."""
    return images.grid(images.pictures(x, scale=3), columns=min(columns, len(x)), gap=2)


@on_gpu(QUICK)
def on_interpolate(kind, seed_a, index_a, seed_b, index_b, frames):
    """Linear and spherical paths between two grid latents: strips, one side-by-side animation, the norm plot."""
    gan = gan_model(kind)
    with timer() as elapsed:
        paths = interpolate(gan, seed_a, index_a, seed_b, index_b, frames)
    linear, spherical = paths["linear"], paths["spherical"]
    pairs = [images.grid(images.pictures(torch.stack([a, b]), scale=5), columns=2, gap=8,
                         labels=["linear", "spherical"])
             for a, b in zip(linear["images"], spherical["images"])]
    gif = images.save_gif(pairs + pairs[-2:0:-1], seconds=max(2.0, len(pairs) / 8), hold_last=0.1)
    typical = math.sqrt(gan.config.latent_dim)
    sag = min(linear["norms"]) / typical
    stats = (f"{len(pairs)} frames per path, both paths generated in {elapsed.milliseconds:.0f} ms. "
             f"Midway the linear path's |z| drops to **{sag:.0%}** of √d = {typical:.1f}, a radius where almost no "
             "training latent ever was; the spherical path stays on the shell.")
    figure = gan_plots.latent_norms_figure(linear["norms"], spherical["norms"], typical)
    return strip(linear["images"]), strip(spherical["images"]), gif, figure, stats


@on_gpu(QUICK)
def on_walk(kind, seed, points, frames_per_leg):
    """A looping spherical tour through `points` random latents: the animation and the anchor images."""
    gan = gan_model(kind)
    points = validate.number(points, "Points", 2, MAX_WALK_POINTS, integer=True)
    frames_per_leg = validate.number(frames_per_leg, "Frames per leg", 1, MAX_FRAMES_PER_LEG, integer=True)
    path = latent_walk(validate.seed(seed), points, frames_per_leg, gan.config.latent_dim)  # (P * F, dim)
    x = generate(gan, path)
    gif = images.save_gif(images.pictures(x, scale=8), seconds=len(x) / 12, hold_last=1 / 12)
    anchors = x[::frames_per_leg]  # (points, 1, 28, 28): the walk passes through these
    return gif, strip(anchors, columns=MAX_WALK_POINTS)


@on_gpu(QUICK)
def on_discriminate(kind, count, seed):
    """P(real) histograms for shipped real test images and generated ones, and the generated extremes."""
    gan = gan_model(kind)
    real, fake, generated = discriminate(gan, count, seed)
    count = len(real)
    real_t, fake_t = torch.tensor(real), torch.tensor(fake)
    accuracy = ((real_t > 0.5).float().mean() + (fake_t <= 0.5).float().mean()).item() / 2
    figure = gan_plots.p_real_histogram_figure(real, fake, f"The {kind} discriminator on {count} real and "
                                                           f"{count} generated images")
    stats = (f"Mean P(real): **{real_t.mean():.2f}** on real images, **{fake_t.mean():.2f}** on generated ones. "
             f"Thresholded at 0.5 it sorts **{accuracy:.0%}** of these {2 * count} images correctly "
             "(50% would mean it cannot tell them apart, which is what a perfect generator forces).")
    order = fake_t.argsort()
    picks = torch.cat([order[:EXTREMES], order[-EXTREMES:]]).tolist()
    x, labels = generated[picks], captions(fake_t[picks], judged(generated[picks]))
    least = images.gallery(x[:EXTREMES], labels[:EXTREMES])
    most = images.gallery(x[EXTREMES:], labels[EXTREMES:])
    return figure, stats, least, most


def class_shares(verdicts: list[dict]) -> list[float]:
    """Share of each class among the judge's verdicts (from judged()); [] without the judge."""
    return class_histogram(torch.tensor([CLASS_NAMES.index(v["class"]) for v in verdicts])) if verdicts else []


@on_gpu(QUICK)
def on_compare(seed, count):
    """The healthy and the collapsed generator from the same latents: samples, class histograms, entropies."""
    seed = validate.seed(seed)
    count = validate.number(count, "Number of images", 16, MAX_DISCRIMINATED, integer=True)
    galleries, histograms, lines = [], {}, []
    for kind in KINDS:
        gan = gan_model(kind)
        x = generate(gan, sample_latents(seed, count, gan.config.latent_dim))  # (count, 1, 28, 28)
        verdicts = judged(x)  # the classifier runs once per generator: for the histogram and the captions
        shown = x[:COMPARE_SHOWN]
        galleries.append(images.gallery(shown, captions(p_real(gan, shown), verdicts[:COMPARE_SHOWN])))
        shares = class_shares(verdicts)
        if shares:
            histograms[kind] = shares
            covered = sum(s > 0 for s in shares)
            lines.append(f"- **{kind}**: {covered} of 10 classes, entropy {entropy_bits(shares):.2f} bits "
                         f"(uniform: {math.log2(10):.2f}), largest class {CLASS_NAMES[int(np.argmax(shares))]} "
                         f"at {max(shares):.0%}")
    figure = gan_plots.class_histograms_figure(CLASS_NAMES, histograms) if histograms else None
    stats = f"Judged on {count} samples each (the galleries show the first {COMPARE_SHOWN}):\n" + "\n".join(lines)
    return *galleries, figure, stats


@cache
def replay_record(kind: str) -> tuple[dict, np.ndarray] | None:
    """A committed training log and its sprite of sample grids (snapshots * grid px, grid px); None if missing."""
    log = read_log(Path(ASSET_DIR) / f"{kind}_train_log.json")
    if log is None:
        return None
    sprite = np.asarray(Image.open(Path(ASSET_DIR) / log["snapshots"]["sprite"]).convert("L"))
    return log, sprite


def on_replay(kind, index):
    """The fixed-noise sample grid at one logged snapshot, and the curves with that step marked."""
    if kind not in KINDS:
        raise gr.Error(f"Generator must be one of {', '.join(KINDS)}.")
    record = replay_record(kind)
    if record is None:
        raise gr.Error(f"No training log for the {kind} GAN: run `python -m genmodels.gan.train --preset cpu"
                       f"{' --collapse' if kind == 'collapsed' else ''}`.")
    log, sprite = record
    steps = log["snapshots"]["step"]
    index = min(validate.number(index, "Snapshot", 1, 1000, integer=True), len(steps)) - 1
    side = sprite.shape[1]
    picture = images.upscale(sprite[index * side:(index + 1) * side], 2)
    figure = gan_plots.training_curves_figure(log["train"], f"Training the {kind} GAN",
                                              keys=("d_loss", "g_loss", "d_real", "d_fake"))
    figure.add_vline(x=steps[index], line=dict(color=BLACK, dash="dot"))
    caption = f"Snapshot {index + 1} of {len(steps)}: step {steps[index]:,} of {log['settings']['steps']:,}."
    return picture, figure, caption
