"""The pixel family's JSON endpoint: build the request from the named arguments, call the family, send the result."""
import gradio as gr

from genmodels.pixels import requests as family
from genmodels.serving import ENGINE_CONCURRENCY
from genmodels.ui.hosting import IMAGES, QUICK, on_gpu


@on_gpu(IMAGES)
def pixels_sample(label: str = "Sneaker", count: int = 4, temperature: float = 1.0, top_k: int = 0,
                  top_p: float = 1.0, seed: int = 0, guidance: float = family.DEFAULT_GUIDANCE) -> dict:
    """`count` images of a class drawn one pixel at a time (guided toward the class at scale `guidance`; 1 = off),
    with the judge's verdicts and the time taken."""
    request = family.PixelRequest.build(label=label, count=count, temperature=temperature, top_k=top_k, top_p=top_p,
                                        seed=seed, guidance=guidance)
    return family.sample(request).to_json()


@on_gpu(QUICK)
def pixel_attention(label: str = "Sneaker", image: list | None = None, pixel: int = 784) -> dict:
    """Where the model looks to predict pixel `pixel` (1-based, raster order) of `image` (28 x 28 gray values 0-255,
    such as one of pixels_sample's images) drawn as class `label`: each block's attention over the pixels before it."""
    return family.gaze_at(family.GazeRequest.build(label=label, image=image, pixel=pixel)).to_json()


def register_api() -> None:
    """Expose the pixel functions as API endpoints (call inside a gr.Blocks context)."""
    gr.api(pixels_sample, api_name="pixels_sample", concurrency_limit=ENGINE_CONCURRENCY)
    gr.api(pixel_attention, api_name="pixel_attention", concurrency_limit=ENGINE_CONCURRENCY)
