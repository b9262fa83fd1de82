"""The GAN tab: samples judged by the discriminator, latent interpolation, healthy versus collapsed, training
replay, and the live 2-D GAN."""
import gradio as gr

from genmodels.checkpoint import read_log
from genmodels.gan.pretrained import ASSET_DIR, KINDS
from genmodels.gan.requests import (
    LIMITS,
    MAX_DISCRIMINATED,
    MAX_FRAMES,
    MAX_FRAMES_PER_LEG,
    MAX_SAMPLES,
    MAX_WALK_POINTS,
)
from genmodels.ui.equations import LATEX, add_equations
from genmodels.ui.gan.toy import build_toy_tab
from genmodels.ui.gan.views import on_compare, on_discriminate, on_interpolate, on_pick, on_replay, on_sample, on_walk
from genmodels.ui.lessons import Lesson, Run, add_lessons, run_lessons
from genmodels.ui.outputs import animation, image_gallery, picture, wrapping_tabs
from genmodels.ui.share import add_copy_link
from genmodels.ui.wiring import listen

MAX_SEED = LIMITS["seed"].high
INTRO = r"""
A GAN trains two networks against each other. The **generator** $G$ turns a random vector $z \sim \mathcal N(0, I)$
into an image in a single pass: no steps, no noise schedule. The **discriminator** $D$ looks at an image and says
how likely it is to be real. $D$ is trained to tell real from generated, $G$ to fool it:
$$\begin{aligned}\min_G \max_D \; & \mathbb E_{x \sim \text{data}}[\log D(x)] \\ & + \mathbb E_{z}[\log(1 - D(G(z)))].
\end{aligned}$$
In practice $G$ minimizes $-\log D(G(z))$, which pushes the same way but keeps its gradient when $D$ is winning.
These two DCGANs were trained here on Fashion-MNIST; nothing ever tells the generator which class to draw.
"""
INTERPOLATION_HELP = r"""
Every image comes from one latent vector. With $d$ dimensions, Gaussian latents almost all have length close to
$\sqrt d$: they live on a thin shell. **Linear** interpolation $(1-\alpha) z_A + \alpha z_B$ cuts through the
inside of that shell, where the generator saw no training latents, so mid-path images can wash out.
**Spherical** interpolation (slerp) walks along the arc,
$\frac{\sin((1-\alpha)\theta)}{\sin\theta} z_A + \frac{\sin(\alpha\theta)}{\sin\theta} z_B$ with
$\cos\theta = \frac{z_A \cdot z_B}{|z_A||z_B|}$, and stays where the latents live.
"""


LESSONS = [
    Lesson("Mode collapse", {"kind": "collapsed", "seed": 0, "count": 24},
           "This generator collapsed. Will 24 different latents give 24 different garments?",
           "Generate: nearly every latent lands on the same pale long-sleeved top (the judge names at most three "
           "classes, mostly Shirt), and the frozen discriminator it collapsed against rates them as more real than "
           "real images. Open Healthy vs collapsed for the class histograms and the recipe."),
    Lesson("Linear vs spherical", {"kind": "healthy", "frames": 16},
           "Halfway along a straight line between two latents, is the latent still as long as a typical one "
           "(√d)?",
           "Generate, click two images (the radio says which end a click sets), then Interpolate. In the norm chart "
           "the linear path sags to about 70% of the typical length midway; look at the middle frames of both "
           "strips for the washed-out images that sag causes."),
    Lesson("One latent, one image", {"kind": "healthy", "seed": 7, "count": 8},
           "Keep seed 7 and ask for fewer images: will the first images change?",
           "A GAN is one pass from z to an image: change only the seed and every image changes; keep the seed and "
           "lower the number of images, and the first ones stay exactly the same, because image i depends only on "
           "(seed, i)."),
]


def collapse_recipe() -> str:
    """How the collapsed GAN was trained, from its committed log."""
    log = read_log(ASSET_DIR / "collapsed_train_log.json")
    return "" if log is None else log.get("collapse_recipe", "")


def build_samples_tab(page: gr.Blocks) -> dict:
    """Grid of samples with P(real), picking interpolation ends, the two paths, and the latent walk; returns its
    shareable controls."""
    grid_seed = gr.State(None)
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            kind = gr.Radio(list(KINDS), value="healthy", label="Generator", elem_id="gan-kind")
            seed = gr.Number(0, precision=0, minimum=0, maximum=MAX_SEED, label="Seed", elem_id="gan-seed")
            count = gr.Slider(1, MAX_SAMPLES, value=24, step=1, label="Images")
            sample_button = gr.Button("Generate", variant="primary", elem_id="gan-sample-button")
            grid_controls = {"kind": kind, "seed": seed, "count": count}
            lessons_column = gr.Column()
        with gr.Column(scale=3, min_width=320):
            lesson_note = gr.Markdown(elem_id="gan-lessons-notice")
            sample_stats = gr.Markdown(elem_id="gan-sample-stats")
            samples = image_gallery("Samples, captioned with the discriminator's P(real) · the judge's verdict",
                                    columns=6, height=560, elem_id="gan-gallery", allow_preview=False)
    gr.Markdown("### Latent interpolation\n" + INTERPOLATION_HELP, latex_delimiters=LATEX)
    with gr.Row():
        pick_end = gr.Radio(["A", "B"], value="A", label="Clicking a sample sets end")
        seed_a = gr.Number(0, precision=0, minimum=0, maximum=MAX_SEED, label="A: seed", elem_id="gan-seed-a")
        index_a = gr.Number(0, precision=0, minimum=0, maximum=LIMITS["index"].high, label="A: image index",
                            elem_id="gan-index-a")
        seed_b = gr.Number(1, precision=0, minimum=0, maximum=MAX_SEED, label="B: seed", elem_id="gan-seed-b")
        index_b = gr.Number(0, precision=0, minimum=0, maximum=LIMITS["index"].high, label="B: image index",
                            elem_id="gan-index-b")
        frames = gr.Slider(2, MAX_FRAMES, value=12, step=1, label="Frames", elem_id="gan-frames")
    interpolate_button = gr.Button("Interpolate", variant="primary", elem_id="gan-interpolate-button")
    with lessons_column:
        lesson_picker = add_lessons(LESSONS, grid_controls | {"frames": frames}, "gan-lessons")
    interpolation_stats = gr.Markdown(elem_id="gan-interpolation-stats")
    linear_strip = picture("Linear path", elem_id="gan-linear-strip")
    spherical_strip = picture("Spherical path", elem_id="gan-spherical-strip")
    with gr.Row():
        pair_gif = animation("Both paths, frame by frame (there and back)", elem_id="gan-pair-gif")
        norms_plot = gr.Plot(label="Latent norm along each path")
    gr.Markdown("### Latent walk\nA loop along great circles through several random latents: every frame is a "
                "valid sample, and the generator morphs smoothly from one garment to the next.")
    with gr.Row():
        walk_seed = gr.Number(7, precision=0, minimum=0, maximum=MAX_SEED, label="Walk seed")
        points = gr.Slider(2, MAX_WALK_POINTS, value=5, step=1, label="Points")
        per_leg = gr.Slider(1, MAX_FRAMES_PER_LEG, value=12, step=1, label="Frames per leg")
        walk_button = gr.Button("Walk", variant="primary", elem_id="gan-walk-button")
    with gr.Row():
        walk_gif = animation("The loop", elem_id="gan-walk-gif")
        anchors = picture("The points it passes through")

    sample_outputs = [samples, sample_stats, grid_seed]
    listen(sample_button.click, on_sample, grid_controls, sample_outputs, arrive=page, api_name="ui_gan_sample",
           api_visibility="private")
    # positional: Gradio hands the click's SelectData only to a handler whose own signature it can read
    samples.select(on_pick, [pick_end, grid_seed], [seed_a, index_a, seed_b, index_b], api_name="ui_gan_pick",
                   api_visibility="private", show_progress="hidden")
    ends = {"seed_a": seed_a, "index_a": index_a, "seed_b": seed_b, "index_b": index_b}
    path_controls = {"kind": kind, **ends, "frames": frames}
    path_outputs = [linear_strip, spherical_strip, pair_gif, norms_plot, interpolation_stats]
    listen(interpolate_button.click, on_interpolate, path_controls, path_outputs, arrive=page,
           api_name="ui_gan_interpolate", api_visibility="private")
    run_lessons(lesson_picker, LESSONS, grid_controls | {"frames": frames}, lesson_note,
                [Run(on_sample, grid_controls, sample_outputs), Run(on_interpolate, path_controls, path_outputs)])
    listen(walk_button.click, on_walk, {"kind": kind, "seed": walk_seed, "points": points, "frames_per_leg": per_leg},
           [walk_gif, anchors], arrive=page, api_name="ui_gan_walk", api_visibility="private")
    return {"kind": kind, "seed": seed, "count": count, "seed_a": seed_a, "index_a": index_a, "seed_b": seed_b,
            "index_b": index_b, "frames": frames, "walk_seed": walk_seed, "points": points, "per_leg": per_leg}


def build_discriminator_tab(page: gr.Blocks) -> None:
    """P(real) histograms on real and generated images, and the generated images D likes least and most."""
    gr.Markdown("The discriminator is a classifier with two classes, real and generated. At the end of training it "
                "is the generator's whole teacher: whatever it rewards, the generator learns to draw.")
    with gr.Row():
        kind = gr.Radio(list(KINDS), value="healthy", label="GAN")
        count = gr.Slider(16, MAX_DISCRIMINATED, value=256, step=16, label="Images of each kind")
        seed = gr.Number(0, precision=0, minimum=0, maximum=MAX_SEED, label="Seed")
        button = gr.Button("Ask the discriminator", variant="primary", elem_id="gan-discriminate-button")
    stats = gr.Markdown(elem_id="gan-discriminate-stats")
    histogram = gr.Plot(label="P(real) histograms", elem_id="gan-p-real-plot")
    with gr.Row():
        least = image_gallery("Generated images it finds least real", columns=4, height=340, allow_preview=False)
        most = image_gallery("Generated images it finds most real", columns=4, height=340, allow_preview=False)
    listen(button.click, on_discriminate, {"kind": kind, "count": count, "seed": seed}, [histogram, stats, least, most],
           arrive=page, api_name="ui_gan_discriminate", api_visibility="private")


def build_collapse_tab(page: gr.Blocks) -> None:
    """The healthy and the collapsed generator side by side, with live class histograms."""
    gr.Markdown("**Mode collapse**: the generator sends many different latents to the same few images. Both "
                "generators below get exactly the same latents.")
    recipe = collapse_recipe()
    if recipe:
        with gr.Accordion("How the collapsed GAN was made", open=False):
            gr.Markdown(recipe)
    with gr.Row():
        seed = gr.Number(0, precision=0, minimum=0, maximum=MAX_SEED, label="Seed")
        count = gr.Slider(LIMITS["compared"].low, LIMITS["compared"].high, value=256, step=16,
                          label="Samples judged per generator")
        button = gr.Button("Compare", variant="primary", elem_id="gan-compare-button")
    with gr.Row():
        healthy = image_gallery("healthy: P(real) · judge", columns=4, height=520,
                                elem_id="gan-healthy", allow_preview=False)
        collapsed = image_gallery("collapsed: P(real) · judge", columns=4, height=520,
                                  elem_id="gan-collapsed", allow_preview=False)
    stats = gr.Markdown(elem_id="gan-compare-stats")
    histogram = gr.Plot(label="Class histograms")
    listen(button.click, on_compare, {"seed": seed, "count": count}, [healthy, collapsed, histogram, stats],
           arrive=page, api_name="ui_gan_compare", api_visibility="private")


def snapshot_count() -> int:
    """How many sample grids the committed healthy run logged (25 when the log is missing or unreadable)."""
    log = read_log(ASSET_DIR / "healthy_train_log.json")
    return 25 if log is None else len(log["snapshots"]["step"])


def build_replay_tab(tab: gr.Tab) -> None:
    """The logged losses and the fixed-noise sample grids over training, with a slider; drawn when `tab` opens."""
    gr.Markdown("Every grid uses the same 64 latents, so you watch the same 64 images form. Early on the "
                "discriminator wins easily; the losses then settle into a tug of war rather than falling to zero.")
    count = snapshot_count()
    with gr.Row():
        kind = gr.Radio(list(KINDS), value="healthy", label="Training run")
        snapshot = gr.Slider(1, count, value=count, step=1, label="Snapshot", elem_id="gan-replay-slider")
    caption = gr.Markdown(elem_id="gan-replay-caption")
    with gr.Row():
        grid = picture("Fixed-noise samples at this snapshot", elem_id="gan-replay-grid")
        curves = gr.Plot(label="Losses and D's outputs")
    for name, event in (("open", tab.select), ("kind", kind.change), ("snapshot", snapshot.change)):
        listen(event, on_replay, {"kind": kind, "index": snapshot}, [grid, curves, caption],
               api_name=f"ui_gan_replay_{name}", api_visibility="private", trigger_mode="always_last",
               show_progress="hidden")


def build_tab(page: gr.Blocks) -> dict:
    """Lay out the GAN tab's sub-tabs and wire their events (call inside gr.Blocks); returns the controls a link
    shares."""
    gr.Markdown(INTRO, latex_delimiters=LATEX)
    add_equations("gan")
    share_row = gr.Column()
    with wrapping_tabs() as view:
        with gr.Tab("Samples and interpolation", id="samples"):
            shared = build_samples_tab(page)
        with gr.Tab("The discriminator's view", id="discriminator"):
            build_discriminator_tab(page)
        with gr.Tab("Healthy vs collapsed", id="collapse"):
            build_collapse_tab(page)
        with gr.Tab("Training replay", id="replay") as replay_tab:
            build_replay_tab(replay_tab)
        with gr.Tab("Live 2-D GAN", id="live"):
            shared |= build_toy_tab(page)
    shared["view"] = view
    with share_row:
        add_copy_link("gan", shared)
    return shared
