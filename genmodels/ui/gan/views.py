"""The GAN tab's page handlers: build the family's request from the widgets, call it, draw the result."""
import math

import gradio as gr
import torch
from PIL import Image

from genmodels.data.fashion_mnist import CLASS_NAMES
from genmodels.gan import requests as family
from genmodels.gan import runs
from genmodels.ui import images
from genmodels.ui.gan import plots
from genmodels.ui.hosting import QUICK, answers, on_gpu
from genmodels.ui.judge import verdict_label
from genmodels.ui.plots import BLACK

EXTREMES = 8  # generated images shown at each end of the P(real) ranking
WORSE_THAN_CHANCE = 0.4  # a discriminator sorting fewer than this share correctly is consistently fooled


def captions(shown: family.Judged) -> list[str]:
    """'0.62 · Sneaker' under each image: the discriminator's P(real), then the judge's verdict when there is one."""
    verdicts = shown.verdicts or [None] * len(shown.p_real)
    return [f"{p:.2f}" + (f" · {verdict_label(v)}" if v else "") for p, v in zip(shown.p_real.tolist(), verdicts)]


def judged_gallery(shown: family.Judged) -> list[tuple]:
    return images.gallery(shown.images, captions(shown))


@on_gpu(QUICK)
def on_sample(kind, seed, count):
    """A grid of generated images captioned with P(real) and the judge's verdict; remembers the seed for picking."""
    request = family.SampleRequest.build(kind=kind, seed=seed, count=count)
    result = family.sample_grid(request)
    stats = (f"**{request.count} images** from seed {request.seed} in {result.milliseconds:.0f} ms (one generator "
             f"pass). Mean P(real) from this generator's own discriminator: {result.p_real.mean():.2f}. "
             "Click an image to make it end A or B of the interpolation below.")
    return judged_gallery(result), stats, request.seed


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
    request = family.InterpolateRequest.build(kind=kind, seed_a=seed_a, index_a=index_a, seed_b=seed_b,
                                              index_b=index_b, frames=frames)
    result = family.interpolate(request)
    linear, spherical = result.linear, result.spherical
    pairs = [images.grid(images.pictures(torch.stack([a, b]), scale=5), columns=2, gap=8,
                         labels=["linear", "spherical"])
             for a, b in zip(linear.images, spherical.images)]
    gif = images.save_gif(pairs + pairs[-2:0:-1], seconds=max(2.0, len(pairs) / 8), hold_last=0.1)
    stats = (f"{len(pairs)} frames per path, both paths generated in {result.milliseconds:.0f} ms. "
             f"Midway the linear path's |z| drops to **{result.sag:.0%}** of √d = {result.typical_norm:.1f}, a "
             "radius where almost no training latent ever was; the spherical path stays on the shell.")
    figure = plots.latent_norms_figure(linear.norms, spherical.norms, result.typical_norm)
    return strip(linear.images), strip(spherical.images), gif, figure, stats


@on_gpu(QUICK)
def on_walk(kind, seed, points, frames_per_leg):
    """A looping spherical tour through `points` random latents: the animation and the anchor images."""
    result = family.walk(family.WalkRequest.build(kind=kind, seed=seed, points=points, frames_per_leg=frames_per_leg))
    gif = images.save_gif(images.pictures(result.images, scale=8), seconds=len(result.images) / 12,
                          hold_last=1 / 12)
    return gif, strip(result.anchors, columns=family.MAX_WALK_POINTS)


@on_gpu(QUICK)
def on_discriminate(kind, count, seed):
    """P(real) histograms for shipped real test images and generated ones, and the generated extremes."""
    request = family.DiscriminateRequest.build(kind=kind, count=count, seed=seed)
    result = family.discriminate(request)
    real, fake = result.real.tolist(), result.generated.tolist()
    figure = plots.p_real_histogram_figure(real, fake, f"The {request.kind} discriminator<br><sup>on {request.count} "
                                                       f"real and {request.count} generated images</sup>")
    stats = (f"Mean P(real): **{result.real.mean():.2f}** on real images, **{result.generated.mean():.2f}** on "
             f"generated ones. Thresholded at 0.5 it sorts **{result.accuracy:.0%}** of these {2 * request.count} "
             "images correctly (50% would mean it cannot tell them apart, which is what a perfect generator forces).")
    if result.accuracy < WORSE_THAN_CHANCE:
        stats += (" Far below 50% is not guessing but being consistently wrong: this discriminator rates the "
                  "generated images as more real than real ones. The collapse recipe froze it while the generator kept "
                  "learning, so the generator moved its latents to the images it scores highest; a discriminator "
                  "that kept learning would have punished the repetition.")
    least, most = result.extremes(EXTREMES)
    return figure, stats, judged_gallery(least), judged_gallery(most)


@on_gpu(QUICK)
def on_compare(seed, count):
    """The healthy and the collapsed generator from the same latents: samples, class histograms, entropies."""
    request = runs.CompareRequest.build(seed=seed, count=count)
    mixes = runs.compare_generators(request)
    judged_mixes = [mix for mix in mixes if mix.shares]  # none without the judge
    lines = [f"- **{mix.kind}**: {mix.covered} of 10 classes, entropy {mix.entropy_bits:.2f} bits (uniform: "
             f"{math.log2(10):.2f}), largest class {mix.top_class} at {max(mix.shares):.0%} of the recognized; "
             f"{mix.unrecognized:.0%} not recognizable as a garment; pixel diversity {mix.diversity:.2f}× that of "
             "real images" for mix in judged_mixes]
    figure = (plots.class_histograms_figure(CLASS_NAMES, {mix.kind: mix.shares for mix in judged_mixes})
              if judged_mixes else None)
    stats = (f"Judged on {request.count} samples each (the galleries show the first {runs.COMPARE_SHOWN}), counted "
             "as `python -m genmodels.gan.evaluate` counts them; diversity is the mean pixel distance between sample "
             "pairs relative to the shipped real test images:\n" + "\n".join(lines))
    return *(judged_gallery(mix.shown) for mix in mixes), figure, stats


@answers
def on_replay(kind, index):
    """The fixed-noise sample grid at one logged snapshot, and the curves with that step marked."""
    result = runs.replay(runs.ReplayRequest.build(kind=kind, index=index))
    figure = plots.training_curves_figure(result.history, f"Training the {result.kind} GAN",
                                          keys=("d_loss", "g_loss", "d_real", "d_fake"))
    figure.add_vline(x=result.step, line=dict(color=BLACK, dash="dot"))
    caption = (f"Snapshot {result.snapshot} of {result.snapshots}: step {result.step:,} of "
               f"{result.total_steps:,}. {result.phases}").strip()
    return images.upscale(result.grid, 2), figure, caption
