"""The pixel model's public API (`pixels_sample`) and the checks the pixel tab shares with it."""
import gradio as gr

from genmodels.checkpoint import CheckpointError
from genmodels.data.fashion_mnist import CLASS_NAMES, to_model_range
from genmodels.pixels.model import PIXELS
from genmodels.pixels.sample import PixelModel, load_pixel_model, sample_pixels
from genmodels.runtime import timer
from genmodels.ui import validate
from genmodels.ui.hosting import IMAGES, on_gpu
from genmodels.ui.judge import judged
from genmodels.ui.text_api import check_sampling

ANY_CLASS = "any class"
LABELS = [*CLASS_NAMES, ANY_CLASS]
MAX_IMAGES = 16


def pixel_model() -> PixelModel:
    """The committed pixel transformer, or a gr.Error naming the command that makes it."""
    try:
        return load_pixel_model()
    except (CheckpointError, FileNotFoundError) as err:
        raise gr.Error(f"The pixel model is unavailable: {err}") from None


def check_label(label) -> int | None:
    """A class name (or its index 0-9) as a class id; "any class" as None."""
    if isinstance(label, str) and label in LABELS:
        return None if label == ANY_CLASS else CLASS_NAMES.index(label)
    if isinstance(label, int) and not isinstance(label, bool) and 0 <= label < len(CLASS_NAMES):
        return label
    raise gr.Error(f"Class must be one of {', '.join(LABELS)} (or 0-9).")


def check_settings(label, temperature, top_k, top_p, seed, count, levels: int) -> tuple:
    """Validated (class id or None, temperature, top_k, top_p, seed, count)."""
    temperature, top_k, top_p, seed = check_sampling(temperature, top_k, top_p, seed, levels)
    count = validate.number(count, "Number of images", 1, MAX_IMAGES, integer=True)
    return check_label(label), temperature, top_k, top_p, seed, count


@on_gpu(IMAGES)
def pixels_sample(label: str = "Sneaker", count: int = 4, temperature: float = 1.0, top_k: int = 0,
                  top_p: float = 1.0, seed: int = 0) -> dict:
    """`count` images of a class drawn one pixel at a time, with the judge's verdicts and the time taken."""
    pm = pixel_model()
    label, temperature, top_k, top_p, seed, count = check_settings(label, temperature, top_k, top_p, seed, count,
                                                                   pm.model.config.levels)
    with timer() as elapsed:
        images = sample_pixels(pm.model, label, count, seed=seed, temperature=temperature, top_k=top_k, top_p=top_p)
    return {"images": images.tolist(), "judge": judged(to_model_range(images)), "seconds": round(elapsed.seconds, 3),
            "network_evaluations_per_image": PIXELS, "levels": pm.model.config.levels,
            "class": None if label is None else CLASS_NAMES[label]}


def register_api() -> None:
    """Expose pixels_sample as an API endpoint (call inside a gr.Blocks context)."""
    gr.api(pixels_sample, api_name="pixels_sample", concurrency_limit=2)

