"""The Compare tab's public API (`race`, `compare_report`) and the pieces its handlers share with it."""
from pathlib import Path

import gradio as gr

from genmodels.checkpoint import read_log
from genmodels.data.fashion_mnist import CLASS_NAMES, to_model_range
from genmodels.diffusion.captions import PHRASES
from genmodels.diffusion.generate import Settings, sample
from genmodels.eval.report import REPORT_PATH
from genmodels.gan.latent import sample_latents
from genmodels.gan.pretrained import generate
from genmodels.pixels.model import PIXELS
from genmodels.pixels.sample import sample_pixels
from genmodels.runtime import timer
from genmodels.ui import validate
from genmodels.ui.diffusion_api import MAX_STEPS, diffusion_model
from genmodels.ui.gan_api import gan_model
from genmodels.ui.hosting import RACE, on_gpu
from genmodels.ui.judge import gray_levels, judged
from genmodels.ui.pixels_api import check_label, pixel_model

FAMILIES = ("gan", "diffusion", "pixels")
FAMILY_NAMES = {"gan": "GAN (one pass)", "diffusion": "Diffusion (denoising steps)",
                "pixels": "Autoregressive (pixel by pixel)"}


def load_report(path: Path = REPORT_PATH) -> dict:
    """The committed `python -m genmodels.eval.report` output, or a gr.Error saying how to make it."""
    report = read_log(path)
    if report is None:
        raise gr.Error(f"No report yet ({path} is missing or unreadable): run "
                       f"`python -m genmodels.eval.report > {path}`.")
    return report


def race_entries(label, diffusion_steps, seed):
    """One sample from each family in turn on this device: (family, image (1, 1, 28, 28) in [-1, 1], seconds,
    network evaluations, device)."""
    label = check_label(label)
    if label is None:
        raise gr.Error("Pick a class for the race: the diffusion and pixel models are asked for the same one.")
    steps = validate.number(diffusion_steps, "Diffusion steps", 1, MAX_STEPS, integer=True)
    seed = validate.seed(seed)
    gan, dm, pm = gan_model("healthy"), diffusion_model(), pixel_model()
    with timer() as elapsed:
        image = generate(gan, sample_latents(seed, 1, gan.config.latent_dim))
    yield "gan", image, elapsed.seconds, 1, next(gan.generator.parameters()).device
    settings = Settings(prompt=PHRASES[label][1], guidance=3.0, steps=steps, seed=seed, count=1)
    with timer() as elapsed:
        trajectory = sample(dm, settings, keep=0)
    yield "diffusion", trajectory.images, elapsed.seconds, trajectory.network_evaluations, dm.unet.conv_in.weight.device
    with timer() as elapsed:
        image = to_model_range(sample_pixels(pm.model, label, 1, seed=seed))
    yield "pixels", image, elapsed.seconds, PIXELS, next(pm.model.parameters()).device


@on_gpu(RACE)
def race(label: str = "Sneaker", diffusion_steps: int = 50, seed: int = 0) -> dict:
    """One sample from each family on this device, one after another: the image, wall time and network
    evaluations of each (the GAN draws any class; the others are asked for `label`)."""
    result = {}
    for family, image, seconds, evaluations, device in race_entries(label, diffusion_steps, seed):
        result[family] = {"image": gray_levels(image)[0], "seconds": round(seconds, 4),
                          "network_evaluations": evaluations, "judge": judged(image)}
        result["device"] = str(device)
    return result | {"asked_for": label if isinstance(label, str) else CLASS_NAMES[label]}


def compare_report() -> dict:
    """Every measured figure of every model, as committed in assets/report.json with its command, device, date."""
    return load_report()


def register_api() -> None:
    """Expose race and compare_report as API endpoints (call inside a gr.Blocks context)."""
    gr.api(race, api_name="race", concurrency_limit=1)
    gr.api(compare_report, api_name="compare_report")

