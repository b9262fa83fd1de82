"""The pixel tab: a class-conditional transformer draws Fashion-MNIST images one gray level at a time."""
from pathlib import Path

import gradio as gr
import numpy as np
import torch
from PIL import Image

from genmodels.checkpoint import read_log
from genmodels.data.fashion_mnist import to_model_range
from genmodels.pixels.model import PIXELS, dequantize
from genmodels.pixels.sample import ASSET_DIR, pixel_stream, sample_levels
from genmodels.runtime import timer
from genmodels.text.sampling import entropy_bits
from genmodels.ui import plots, validate
from genmodels.ui.diffusion_handlers import square_columns
from genmodels.ui.equations import LATEX, add_equations
from genmodels.ui.hosting import EXAMPLES_CACHE_MODE, IMAGES, on_gpu
from genmodels.ui.images import SCALE, gallery, grid
from genmodels.ui.judge import verdict_captions
from genmodels.ui.lessons import Lesson, add_lessons
from genmodels.ui.outputs import image_gallery, picture
from genmodels.ui.pixels_api import LABELS, MAX_IMAGES, check_settings, pixel_model
from genmodels.ui.share import add_copy_link

EXAMPLE_CLASSES = ["Trouser", "Sneaker", "Ankle boot", "Bag"]  # cached examples: classes the model draws well
UNDRAWN = (214, 226, 240)  # pixels not drawn yet: pale blue
CURRENT = (213, 94, 0)  # the pixel being drawn: vermillion
INTRO = r"""
The same idea as the text model, applied to images: read the 784 pixels of a 28 × 28 image row by row, left to
right, and predict each one from all those before it,
$$p(\text{image} \mid \text{class}) = \prod_{i=1}^{784} p(x_i \mid \text{class}, x_1, \dots, x_{i-1}).$$
Each pixel is one of a few gray levels, so every step is a choice among a handful of "tokens", drawn with the same
temperature, top-k and top-p code the text tab uses. The first token says which class to draw. 784 network
evaluations per image, one after another: watch the image fill in and the distribution behind every pixel.
"""


LESSONS = [
    Lesson("Temperature 0: the argmax everywhere", {"temperature": 0.0, "top_k": 0, "top_p": 1.0, "count": 4},
           "Every pixel takes its most likely level, so the four images come out identical and the seed does not "
           "matter. They are also oddly flat: the most likely level of each pixel, one after another, is not the "
           "most likely image."),
    Lesson("Low temperature", {"temperature": 0.7, "top_k": 0, "top_p": 1.0, "count": 4},
           "Dividing the logits by 0.7 sharpens every pixel's distribution: cleaner backgrounds and more typical "
           "garments than at temperature 1, with less variety between the four images. Inspect an edge pixel to "
           "see the orange bars lean harder on the favourite level."),
    Lesson("Any class", {"label": "any class", "temperature": 1.0, "top_k": 0, "top_p": 1.0, "count": 8},
           "The first token says 'any class' (10% of training sequences started this way): the model decides what "
           "to draw as it goes, often within the first rows, and the judge's verdicts show the mix."),
]


def colored(levels_row: torch.Tensor, levels: int, current: int | None) -> Image.Image:
    """One image's gray levels (784,) with -1 for undrawn pixels, as an upscaled RGB picture."""
    gray = dequantize(levels_row.clamp(min=0), levels).numpy()  # (784,)
    rgb = np.repeat(gray[:, None], 3, axis=1)  # (784, 3)
    rgb[levels_row.numpy() < 0] = UNDRAWN
    if current is not None:
        rgb[current] = CURRENT
    image = Image.fromarray(rgb.reshape(28, 28, 3).astype(np.uint8), mode="RGB")
    return image.resize((28 * SCALE, 28 * SCALE), Image.NEAREST)


def candidates(step: dict, index: int, levels: int) -> list[dict]:
    """Every gray level of pixel `index` of image 1 in the form plots.distribution_figure draws."""
    raw, adjusted, drawn = step["raw"][index], step["probs"][index], step["tokens"][index]
    values = dequantize(torch.arange(levels), levels).tolist()
    return [{"token": f"{k}:{values[k]}", "id": k, "model_prob": raw[k], "adjusted_prob": adjusted[k],
             "kept": adjusted[k] > 0, "sampled": k == drawn} for k in range(levels)]


def position(index: int) -> str:
    return f"pixel {index + 1} of {PIXELS} (row {index // 28 + 1}, column {index % 28 + 1})"


def model_and_settings(label, temperature, top_k, top_p, seed, count) -> tuple:
    """The pixel model, its number of gray levels, and the validated settings."""
    pm = pixel_model()
    levels = pm.model.config.levels
    return pm, levels, check_settings(label, temperature, top_k, top_p, seed, count, levels)


@on_gpu(IMAGES)
def on_draw(label, temperature, top_k, top_p, seed, count):
    """Stream the images row by row with the current pixel's distribution, then the judged results."""
    pm, levels, (label, temperature, top_k, top_p, seed, count) = model_and_settings(label, temperature, top_k,
                                                                                      top_p, seed, count)
    drawn = torch.full((count, PIXELS), -1)  # (count, 784)
    record = {"raw": [], "probs": [], "tokens": [], "levels": levels}  # image 1, every pixel
    columns = square_columns(count)
    with timer() as elapsed:
        for step in pixel_stream(pm.model, label, count, temperature, top_k, top_p, seed):
            drawn[:, step.index] = step.token.cpu()
            record["raw"].append([round(p, 5) for p in step.raw_probs[0].tolist()])
            record["probs"].append([round(p, 5) for p in step.probs[0].tolist()])
            record["tokens"].append(int(step.token[0]))
            if step.index % 28 == 27 and step.index < PIXELS - 1:
                pictures = [colored(row, levels, step.index) for row in drawn]
                figure = plots.distribution_figure(candidates(record, step.index, levels),
                                                   f"Image 1, {position(step.index)}")
                yield (grid(pictures, columns), figure, f"Drawing… {step.index + 1} of {PIXELS} pixels",
                       *[gr.skip()] * 5)
    images = dequantize(drawn, levels).view(count, 1, 28, 28)  # uint8
    x = to_model_range(images[:, 0])
    stats = (f"**{count} images** in {elapsed.seconds:.2f} s: {PIXELS} network evaluations each, one per pixel "
             f"({count * PIXELS / elapsed.seconds:,.0f} pixels/s on {next(pm.model.parameters()).device}). "
             "The slider starts at the pixel of image 1 where the model was least sure; move it to see the "
             "distribution any pixel was drawn from.")
    raw = torch.tensor(record["raw"])  # (784, levels)
    hardest = int(entropy_bits(raw).argmax()) + 1  # start the inspector where the model was least sure
    inspector = gr.Slider(minimum=1, maximum=PIXELS, value=hardest, step=1, interactive=True, label="Pixel of image 1")
    marked, figure, caption = on_inspect(hardest, record)
    yield (grid([colored(row, levels, None) for row in drawn], columns), figure, stats,
           gallery(x, verdict_captions(x)), record, inspector, marked, caption)


@on_gpu(IMAGES)
def on_example(label, temperature, top_k, top_p, seed, count):
    """The finished images at once, without streaming: what a cached example stores (Draw gives the same images)."""
    pm, levels, (label, temperature, top_k, top_p, seed, count) = model_and_settings(label, temperature, top_k,
                                                                                      top_p, seed, count)
    with timer() as elapsed:
        drawn = sample_levels(pm.model, label, count, seed, temperature=temperature, top_k=top_k,
                              top_p=top_p)  # (count, 784)
    x = to_model_range(dequantize(drawn, levels).view(count, 28, 28))
    stats = (f"**{count} images** in {elapsed.seconds:.2f} s, {PIXELS} network evaluations each, on "
             f"{next(pm.model.parameters()).device}. A cached example: computed once, then served to everyone; "
             "press Draw to watch it happen pixel by pixel.")
    canvas = grid([colored(row, levels, None) for row in drawn], square_columns(count))
    return canvas, gallery(x, verdict_captions(x)), stats


def on_inspect(index, record):
    """Image 1 with one pixel marked, and the distribution that pixel was drawn from."""
    if not record:
        return gr.skip(), gr.skip(), "Draw some images first."
    index = validate.number(index, "Pixel", 1, PIXELS, integer=True) - 1
    levels = record["levels"]
    marked = colored(torch.tensor(record["tokens"]), levels, index)
    entropy = float(entropy_bits(torch.tensor(record["raw"][index])))
    caption = (f"Image 1, {position(index)}: drew level {record['tokens'][index]} of {levels}; the model's "
               f"entropy here is {entropy:.2f} bits (background pixels are near 0, edges are the uncertain ones).")
    figure = plots.distribution_figure(candidates(record, index, levels), f"Image 1, {position(index)}")
    return marked, figure, caption


def training_summary() -> str:
    """The committed training log in one sentence."""
    log = read_log(Path(ASSET_DIR) / "train_log.json")
    if log is None:
        return "No training log: run `python -m genmodels.pixels.train --preset gpu`."
    return (f"{log['params'] / 1e6:.2f}M parameters, {log['config']['levels']} gray levels, trained "
            f"{log['settings']['steps']:,} steps ({log['preset']} preset, {log['seconds'] / 60:.0f} min on "
            f"{log['device']}); held-out test images cost **{log['best_val_loss']:.3f} bits per pixel** "
            f"(uniform over the levels: {np.log2(log['config']['levels']):.0f} bits).")


def build_pixels_tab() -> dict:
    """Lay out the pixel tab and wire its events (call inside gr.Blocks); returns the controls a link shares."""
    gr.Markdown(INTRO, latex_delimiters=LATEX)
    add_equations("pixels")
    record = gr.State(None)
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            label = gr.Dropdown(LABELS, value="Sneaker", label="Class", elem_id="pixels-class")
            temperature = gr.Slider(0, 2, value=1.0, step=0.05, label="Temperature")
            top_k = gr.Slider(0, 16, value=0, step=1, label="Top-k (0 = off)")
            top_p = gr.Slider(0.05, 1, value=1.0, step=0.05, label="Top-p")
            with gr.Row():
                seed = gr.Number(0, precision=0, label="Seed")
                count = gr.Slider(1, MAX_IMAGES, value=4, step=1, label="Images", elem_id="pixels-count")
            draw_button = gr.Button("Draw pixel by pixel", variant="primary", elem_id="pixels-draw")
            examples_column = gr.Column()
            add_lessons(LESSONS, {"label": label, "temperature": temperature, "top_k": top_k, "top_p": top_p,
                                  "count": count}, "pixels-lessons")
            shared = {"label": label, "temperature": temperature, "top_k": top_k, "top_p": top_p, "seed": seed,
                      "count": count}
            add_copy_link("pixels", shared)
            gr.Markdown(training_summary())
        with gr.Column(scale=2, min_width=320):
            stats = gr.Markdown(elem_id="pixels-stats")
            canvas = picture("The images as they are drawn (pale blue: not drawn yet)", elem_id="pixels-canvas")
            distribution = gr.Plot(label="The current pixel's distribution over gray levels (level:gray value)",
                                   elem_id="pixels-distribution")
            inspector = gr.Slider(1, PIXELS, value=PIXELS, step=1, label="Pixel of image 1", interactive=False,
                                  elem_id="pixels-inspector")
            with gr.Row():
                marked = picture("Image 1, the inspected pixel marked", elem_id="pixels-marked")
                results = image_gallery("Finished images (the judge's verdict)", columns=2, height=340,
                                        elem_id="pixels-gallery")
            inspect_caption = gr.Markdown(elem_id="pixels-inspect-caption")
    with examples_column:
        gr.Examples([[name, 1.0, 0, 1.0, 0, 4] for name in EXAMPLE_CLASSES],
                    inputs=[label, temperature, top_k, top_p, seed, count],
                    outputs=[canvas, results, stats], fn=on_example, cache_examples=True,
                    cache_mode=EXAMPLES_CACHE_MODE, api_name="ui_pixels_example", api_visibility="private",
                    elem_id="pixels-examples", label="Examples (temperature 1, seed 0): answered from a cache",
                    example_labels=EXAMPLE_CLASSES)
    draw_button.click(on_draw, [label, temperature, top_k, top_p, seed, count],
                      [canvas, distribution, stats, results, record, inspector, marked, inspect_caption],
                      api_name="ui_pixels_draw",
                      api_visibility="private", concurrency_limit=2)
    # input, not change: on_draw already sends the inspector's first view (see the diffusion tab's scrub slider)
    inspector.input(on_inspect, [inspector, record], [marked, distribution, inspect_caption],
                    api_name="ui_pixels_inspect", api_visibility="private", show_progress="hidden",
                    trigger_mode="always_last")
    return shared
