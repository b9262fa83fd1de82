"""The pixel tab's page handlers: build the family's request from the widgets, call it, draw the result."""
import gradio as gr
import numpy as np
import torch
from PIL import Image

from genmodels.pixels import requests as family
from genmodels.pixels.model import PIXELS, dequantize
from genmodels.runtime import timer
from genmodels.text.sampling import entropy_bits
from genmodels.ui import plots as ui_plots
from genmodels.ui.hosting import IMAGES, QUICK, on_gpu
from genmodels.ui.images import SCALE, gallery, grid, square_columns
from genmodels.ui.judge import verdict_captions
from genmodels.ui.pixels import plots

UNDRAWN = (214, 226, 240)  # pixels not drawn yet: pale blue
CURRENT = (213, 94, 0)  # the pixel being drawn: vermillion


def painted(levels_row: torch.Tensor, levels: int, current: int | None) -> np.ndarray:
    """One image's gray levels (784,) with -1 for undrawn pixels as RGB (28, 28, 3), the current pixel marked."""
    gray = dequantize(levels_row.clamp(min=0), levels).numpy()  # (784,)
    rgb = np.repeat(gray[:, None], 3, axis=1)  # (784, 3)
    rgb[levels_row.numpy() < 0] = UNDRAWN
    if current is not None:
        rgb[current] = CURRENT
    return rgb.reshape(28, 28, 3).astype(np.uint8)


def colored(levels_row: torch.Tensor, levels: int, current: int | None) -> Image.Image:
    """One image's gray levels (784,) with -1 for undrawn pixels, as an upscaled RGB picture."""
    image = Image.fromarray(painted(levels_row, levels, current), mode="RGB")
    return image.resize((28 * SCALE, 28 * SCALE), Image.NEAREST)


def candidates(record: dict, index: int, levels: int) -> list[dict]:
    """Every gray level of pixel `index` of image 1 in the form plots.distribution_figure draws."""
    raw, adjusted, drawn = record["raw"][index], record["probs"][index], record["tokens"][index]
    values = dequantize(torch.arange(levels), levels).tolist()
    return [{"token": f"{k}:{values[k]}", "id": k, "model_prob": raw[k], "adjusted_prob": adjusted[k],
             "kept": adjusted[k] > 0, "sampled": k == drawn} for k in range(levels)]


def position(index: int) -> str:
    """Pixel `index` (0-based) in words, 1-based."""
    return f"pixel {index + 1} of {PIXELS} (row {index // 28 + 1}, column {index % 28 + 1})"


def canvas(tokens: torch.Tensor, levels: int) -> Image.Image:
    """Finished images (count, 784) as one near-square grid."""
    return grid([colored(row, levels, None) for row in tokens], square_columns(len(tokens)))


def evaluations(result: family.PixelResult) -> str:
    """What each image cost, in words."""
    if result.network_evaluations == PIXELS:
        return f"{PIXELS} network evaluations each, one per pixel"
    return (f"{result.network_evaluations} network evaluations each: every pixel's prediction for the class and "
            f"for \"any class\", mixed at guidance {result.guidance:g}")


@on_gpu(IMAGES)
def on_draw(label, temperature, top_k, top_p, seed, count, guidance=family.DEFAULT_GUIDANCE):
    """Stream the images row by row with the current pixel's distribution, then the judged results."""
    request = family.PixelRequest.build(label=label, count=count, temperature=temperature, top_k=top_k, top_p=top_p,
                                        seed=seed, guidance=guidance)
    levels = family.pixel_model().model.config.levels
    drawn = torch.full((request.count, PIXELS), -1)  # (count, 784)
    record = {"raw": [], "probs": [], "tokens": [], "levels": levels, "label": label}  # image 1, every pixel
    with timer() as elapsed:
        for step in family.sample_stream(request):
            drawn[:, step.index] = step.token.cpu()
            record["raw"].append([round(p, 5) for p in step.raw_probs[0].tolist()])
            record["probs"].append([round(p, 5) for p in step.probs[0].tolist()])
            record["tokens"].append(int(step.token[0]))
            if step.index % 28 == 27 and step.index < PIXELS - 1:  # a row done: redraw, the last row excepted
                pictures = [colored(row, levels, step.index) for row in drawn]
                figure = ui_plots.distribution_figure(candidates(record, step.index, levels),
                                                      f"Image 1, pixel {step.index + 1}")
                yield (grid(pictures, square_columns(request.count)), f"Drawing… {step.index + 1} of {PIXELS} pixels",
                       *[gr.skip()] * 4, figure, *[gr.skip()] * 2)
    result = family.finished(request, drawn, elapsed.seconds)
    stats = (f"**{request.count} images** in {result.seconds:.2f} s: {evaluations(result)} "
             f"({request.count * PIXELS / result.seconds:,.0f} pixels/s on {result.device}). The slider starts "
             "at the pixel of image 1 where the model was least sure; move it to see the distribution any pixel "
             "was drawn from.")
    hardest = int(entropy_bits(torch.tensor(record["raw"])).argmax()) + 1  # start where the model was least sure
    inspector = gr.Slider(minimum=1, maximum=PIXELS, value=hardest, step=1, interactive=True, label="Pixel of image 1")
    finished = gallery(result.x, verdict_captions(result.judge, request.count))
    yield canvas(result.tokens, levels), stats, finished, record, inspector, *inspected(hardest, record)


@on_gpu(IMAGES)
def on_example(label, temperature, top_k, top_p, seed, count, guidance=family.DEFAULT_GUIDANCE):
    """The finished images at once, without streaming: what a cached example stores (Draw gives the same images)."""
    request = family.PixelRequest.build(label=label, count=count, temperature=temperature, top_k=top_k, top_p=top_p,
                                        seed=seed, guidance=guidance)
    result = family.sample(request)
    stats = (f"**{request.count} images** in {result.seconds:.2f} s, {evaluations(result)}, on "
             f"{result.device}. A cached example: computed once, then served to everyone; press Draw to watch it "
             "happen pixel by pixel.")
    return (canvas(result.tokens, result.levels), gallery(result.x, verdict_captions(result.judge, request.count)),
            stats)


def inspected(index, record):
    """Image 1 with pixel `index` (1-based) marked, the distribution it was drawn from, where the model looked to
    draw it, and a caption."""
    if not record:
        return gr.skip(), gr.skip(), gr.skip(), "Draw some images first."
    levels, tokens = record["levels"], torch.tensor(record["tokens"])
    image = dequantize(tokens, levels).view(28, 28)
    found = family.gaze_at(family.GazeRequest.build(label=record["label"], image=image, pixel=index))
    index = found.request.pixel - 1
    marked = colored(tokens, levels, index)
    seen = torch.where(torch.arange(PIXELS) < index, tokens, -1)  # what the model had read: the pixels before it
    gaze = plots.gaze_figure(painted(seen, levels, None).tolist(), found.mean.tolist(), found.maps.tolist(), index)
    shares = ", ".join(f"block {b + 1} {share:.0%}" for b, share in enumerate(found.class_share))
    entropy = float(entropy_bits(torch.tensor(record["raw"][index])))
    caption = (f"Image 1, {position(index)}: drew level {record['tokens'][index]} of {levels}; the model's "
               f"entropy here is {entropy:.2f} bits (background pixels are near 0, edges are the uncertain ones). "
               "Vermillion shows the pixels it weighed to predict this one (the strongest in each panel fully "
               f"colored); pale blue ones are not drawn yet, so it cannot see them. The rest of its attention goes to "
               f"the class token that starts the sequence: {shares}.")
    figure = ui_plots.distribution_figure(candidates(record, index, levels), f"Image 1, pixel {index + 1}")
    return marked, figure, gaze, caption


@on_gpu(QUICK)
def on_inspect(index, record):
    """Move the inspector to pixel `index` (1-based) of image 1."""
    return inspected(index, record)
