"""The pixel family's JSON endpoint: build the request from the named arguments, call the family, send the result."""
import gradio as gr

from genmodels.pixels import requests as family
from genmodels.serving import ENGINE_CONCURRENCY
from genmodels.ui.hosting import IMAGES, on_gpu


@on_gpu(IMAGES)
def pixels_sample(label: str = "Sneaker", count: int = 4, temperature: float = 1.0, top_k: int = 0,
                  top_p: float = 1.0, seed: int = 0) -> dict:
    """`count` images of a class drawn one pixel at a time, with the judge's verdicts and the time taken."""
    request = family.PixelRequest.build(label=label, count=count, temperature=temperature, top_k=top_k, top_p=top_p,
                                        seed=seed)
    return family.sample(request).to_json()


def register_api() -> None:
    """Expose pixels_sample as an API endpoint (call inside a gr.Blocks context)."""
    gr.api(pixels_sample, api_name="pixels_sample", concurrency_limit=ENGINE_CONCURRENCY)
