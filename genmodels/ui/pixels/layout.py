"""The autoregressive pixel tab's layout and events: a class-conditional transformer draws Fashion-MNIST images
one gray level at a time."""
from pathlib import Path

import gradio as gr
import numpy as np

from genmodels.checkpoint import read_log
from genmodels.serving import ENGINE_CONCURRENCY
from genmodels.pixels.model import PIXELS
from genmodels.pixels.requests import DEFAULT_GUIDANCE, LABELS, LIMITS, MAX_IMAGES
from genmodels.pixels.sample import ASSET_DIR
from genmodels.ui.equations import LATEX, add_equations
from genmodels.ui.hosting import EXAMPLES_CACHE_MODE
from genmodels.ui.lessons import Lesson, Run, add_lessons, run_lessons
from genmodels.ui.outputs import image_gallery, picture, wrapping_tabs
from genmodels.ui.pixels.views import on_draw, on_example, on_inspect
from genmodels.ui.share import add_copy_link
from genmodels.ui.timeline import add_timeline
from genmodels.ui.wiring import by_name, listen

EXAMPLE_CLASSES = ["Trouser", "Sneaker", "Ankle boot", "Bag"]  # cached examples: classes the model draws well
EXAMPLE_SETTINGS = {"temperature": 1.0, "top_k": 0, "top_p": 1.0, "seed": 0, "count": 4,
                    "guidance": DEFAULT_GUIDANCE}
INTRO = r"""
The same idea as the text model, applied to images: read the 784 pixels of a 28 × 28 image row by row, left to
right, and predict each one from all those before it,
$$p(\text{image} \mid \text{class}) = \prod_{i=1}^{784} p(x_i \mid \text{class}, x_1, \dots, x_{i-1}).$$
Each pixel is one of a few gray levels, so every step is a choice among a handful of "tokens", drawn with the same
temperature, top-k and top-p code the text tab uses. The first token says which class to draw. 784 network
evaluations per image, one after another: watch the image fill in and the distribution behind every pixel.

**Guidance** borrows the diffusion tab's trick. One training sequence in ten started with "any class", so the same
network also predicts each pixel without being told the class. With scale $s$ every pixel is drawn from the
logits $\ell_{\text{any}} + s\,(\ell_{\text{class}} - \ell_{\text{any}})$: $s = 1$ is the model as trained, $s > 1$
leans away from generic clothing toward what sets the class apart, $s = 0$ forgets the class. Each image then
needs both predictions at every pixel, twice the rows in the batch.
"""


LESSONS = [
    Lesson("Temperature 0: the argmax everywhere",
           {"temperature": 0.0, "top_k": 0, "top_p": 1.0, "count": 4, "guidance": 1.0},
           "With guidance off, if every pixel takes its single most likely gray level, will the four images differ, "
           "and will they look like sneakers?",
           "Every pixel takes its most likely level, so the four images come out identical and the seed does not "
           "matter. They are not garments but flat blocks, which the judge declines to name: the most likely level "
           "of each pixel, one after another, is not a likely image. Sampling (temperature 1) is what draws clothes. "
           f"Now set guidance to {DEFAULT_GUIDANCE:g}: the argmax of the guided logits draws one flat, gray sneaker "
           "silhouette, because guidance makes the class's own levels the favourites."),
    Lesson("Low temperature", {"temperature": 0.7, "top_k": 0, "top_p": 1.0, "count": 4,
                               "guidance": DEFAULT_GUIDANCE},
           "At temperature 0.7, will the four images look more alike or less alike than at temperature 1?",
           "Dividing the logits by 0.7 sharpens every pixel's distribution: cleaner backgrounds and more typical "
           "garments than at temperature 1, with less variety between the four images. Inspect an edge pixel to "
           "see the orange bars lean harder on the favourite level."),
    Lesson("Any class", {"label": "any class", "temperature": 1.0, "top_k": 0, "top_p": 1.0, "count": 8,
                         "guidance": DEFAULT_GUIDANCE},
           "Told 'any class', will the model draw one kind of garment eight times, or a mix?",
           "The first token says 'any class' (10% of training sequences started this way): the model decides what "
           "to draw as it goes, often within the first rows, and the judge's verdicts show the mix."),
    Lesson("Guidance off", {"label": "Pullover", "temperature": 1.0, "top_k": 0, "top_p": 1.0, "count": 8,
                            "guidance": 1.0},
           f"With guidance off (scale 1), will the judge name as many of eight pullovers as at the tab's scale "
           f"{DEFAULT_GUIDANCE:g}?",
           "Fewer: at scale 1 each pixel comes from the model as trained, and many of the eight drift toward coats "
           f"and shirts, tops that share a silhouette. Set guidance back to {DEFAULT_GUIDANCE:g} and draw again "
           "with the same seed: every pixel now leans away from what any top would look like, toward what makes "
           "a pullover, and the judge names more of them. The price shows in the statistics: two predictions per "
           "pixel."),
]


def training_summary() -> str:
    """The committed training log in one sentence."""
    log = read_log(Path(ASSET_DIR) / "train_log.json")
    if log is None:
        return "No training log: run `python -m genmodels.pixels.train --preset gpu`."
    return (f"{log['params'] / 1e6:.2f}M parameters, {log['config']['levels']} gray levels, trained "
            f"{log['settings']['steps']:,} steps ({log['preset']} preset, {log['seconds'] / 60:.0f} min on "
            f"{log['device']}); held-out test images cost **{log['best_val_loss']:.3f} bits per pixel** "
            f"(uniform over the levels: {np.log2(log['config']['levels']):.0f} bits).")


def build_tab(page: gr.Blocks) -> dict:
    """Lay out the tab and wire its events (call inside gr.Blocks); returns the controls a link shares."""
    gr.Markdown(INTRO, latex_delimiters=LATEX)
    add_equations("pixels")
    record = gr.State(None)
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            label = gr.Dropdown(LABELS, value="Sneaker", label="Class", elem_id="pixels-class")
            temperature = gr.Slider(0, 2, value=1.0, step=0.05, label="Temperature")
            top_k = gr.Slider(0, 16, value=0, step=1, label="Top-k (0 = off)")
            top_p = gr.Slider(0.05, 1, value=1.0, step=0.05, label="Top-p")
            guidance = gr.Slider(LIMITS["guidance"].low, LIMITS["guidance"].high, value=DEFAULT_GUIDANCE, step=0.5,
                                 label="Guidance toward the class (1 = off)", elem_id="pixels-guidance")
            with gr.Row():
                seed = gr.Number(0, precision=0, label="Seed")
                count = gr.Slider(1, MAX_IMAGES, value=4, step=1, label="Images", elem_id="pixels-count")
            draw_button = gr.Button("Draw pixel by pixel", variant="primary", elem_id="pixels-draw")
            examples_column = gr.Column()
            lesson_controls = {"label": label, "temperature": temperature, "top_k": top_k, "top_p": top_p,
                               "count": count, "guidance": guidance}
            lesson_picker = add_lessons(LESSONS, lesson_controls, "pixels-lessons")
            settings = {"label": label, "temperature": temperature, "top_k": top_k, "top_p": top_p, "seed": seed,
                        "count": count, "guidance": guidance}
            share_row = gr.Column()
        with gr.Column(scale=2, min_width=320):
            lesson_note = gr.Markdown(elem_id="pixels-lessons-notice")
            with wrapping_tabs() as view:
                with gr.Tab("Draw", id="draw"):
                    stats = gr.Markdown(elem_id="pixels-stats")
                    canvas = picture("The images as they are drawn (pale blue: not drawn yet)",
                                     elem_id="pixels-canvas")
                    inspector = gr.Slider(1, PIXELS, value=PIXELS, step=1, label="Pixel of image 1",
                                          interactive=False, elem_id="pixels-inspector")
                    with gr.Row():
                        distribution = gr.Plot(label="The current pixel's distribution over gray levels "
                                                     "(level:gray value)",
                                               elem_id="pixels-distribution", min_width=300, scale=2)
                        gaze = gr.Plot(label="Where the model looked to draw it: attention over the pixels before it",
                                       elem_id="pixels-gaze", min_width=300, scale=3)
                    inspect_caption = gr.Markdown(elem_id="pixels-inspect-caption")
                    with gr.Row():
                        marked = picture("Image 1, the inspected pixel marked", elem_id="pixels-marked")
                        results = image_gallery("Finished images (the judge's verdict)", columns=2, height=340,
                                                elem_id="pixels-gallery")
                with gr.Tab("How it was trained", id="training"):
                    gr.Markdown(training_summary())
                    timeline = add_timeline("pixels")
    shared = {**settings, "view": view, **timeline}
    with share_row:
        add_copy_link("pixels", shared)
    with examples_column:
        rows = [{**EXAMPLE_SETTINGS, "label": name} for name in EXAMPLE_CLASSES]
        gr.Examples([[row[name] for name in settings] for row in rows], inputs=list(settings.values()),
                    outputs=[canvas, results, stats], fn=by_name(on_example, list(settings)), cache_examples=True,
                    cache_mode=EXAMPLES_CACHE_MODE, api_name="ui_pixels_example", api_visibility="private",
                    elem_id="pixels-examples", label="Examples (temperature 1, seed 0): answered from a cache",
                    example_labels=EXAMPLE_CLASSES)
    draw_outputs = [canvas, stats, results, record, inspector, marked, distribution, gaze, inspect_caption]
    listen(draw_button.click, on_draw, settings, draw_outputs, arrive=page, api_name="ui_pixels_draw",
           api_visibility="private", concurrency_limit=ENGINE_CONCURRENCY)
    run_lessons(lesson_picker, LESSONS, lesson_controls, lesson_note, [Run(on_draw, settings, draw_outputs)])
    # input, not change: on_draw already sends the inspector's first view (see the diffusion tab's scrub slider)
    listen(inspector.input, on_inspect, {"index": inspector, "record": record},
           [marked, distribution, gaze, inspect_caption],
           api_name="ui_pixels_inspect", api_visibility="private", show_progress="hidden", trigger_mode="always_last")
    return shared
