"""UI adapters for the diffusion tab: validate widget values, run genmodels.diffusion, return pictures and plots."""
import math

import gradio as gr

from genmodels.data.fashion_mnist import CLASS_NAMES
from genmodels.diffusion import generate
from genmodels.diffusion.schedule import signal_noise_levels
from genmodels.ui import images, plots, validate
from genmodels.ui.diffusion_api import (
    GUIDANCE_SCALES,
    MAX_FRAMES,
    MAX_PROMPT_CHARS,
    check_settings,
    diffusion_model,
    example_image,
)
from genmodels.ui.hosting import IMAGES, QUICK, on_gpu
from genmodels.ui.judge import verdict_captions

STRIP_FRAMES = 10  # columns of the film strip
STREAM_UPDATES = 20  # gallery refreshes while sampling
NOISE_RANGE = 3.0  # predicted noise is shown from -3 to 3 standard deviations



def film_strip(trajectory: generate.Trajectory, frames: int = STRIP_FRAMES):
    """Image 1 at about `frames` evenly spaced recorded steps: x_t on top, predicted x0 below."""
    recorded = trajectory.steps
    picks = sorted({round(i * (len(recorded) - 1) / max(1, frames - 1)) for i in range(min(frames, len(recorded)))})
    tops = [images.upscale(images.to_uint8(recorded[i].x_t[:1])[0], 4) for i in picks]
    bottoms = [images.upscale(images.to_uint8(recorded[i].x0_pred[:1])[0], 4) for i in picks]
    labels = [f"t={recorded[i].t}" for i in picks] + ["x0 estimate"] * len(picks)
    return images.grid(tops + bottoms, columns=len(picks), labels=labels)


def square_columns(count: int) -> int:
    """Columns for a near-square grid of `count` images."""
    return math.ceil(math.sqrt(count))


def animation(trajectory: generate.Trajectory) -> str:
    """A GIF of every recorded x_t (all images in a grid), ending on the final images."""
    columns = square_columns(len(trajectory.images))
    frames = [images.grid(images.pictures(step.x_t.float(), scale=3), columns) for step in trajectory.steps]
    frames.append(images.grid(images.pictures(trajectory.images, scale=3), columns))
    return images.save_gif(frames, seconds=4.0, hold_last=1.5)


@on_gpu(IMAGES)
def on_diffuse(prompt, guidance, steps, sampler, eta, seed, count):
    """Stream the predicted x0 while sampling, then show the images, film strip, scrubber, animation and plots."""
    dm = diffusion_model()
    settings = check_settings(prompt, guidance, steps, sampler, eta, seed, count)
    similarity = plots.similarity_figure(CLASS_NAMES, generate.understood(dm, settings.prompt))
    every = max(1, settings.steps // STREAM_UPDATES)
    trajectory = None
    for step, trajectory in generate.sample_stream(dm, settings):
        if step.index % every == 0 and step.index < settings.steps - 1:
            label = f"step {step.index + 1}/{settings.steps}: x0 estimate"
            preview = images.gallery(step.x0_pred, [label] * len(step.x0_pred))
            yield (preview, gr.skip(), gr.skip(), gr.skip(), gr.skip(), similarity,
                   f"Sampling… step {step.index + 1} of {settings.steps} (t = {step.t})", *[gr.skip()] * 5)
    final = images.gallery(trajectory.images, verdict_captions(trajectory.images))
    scrubber = gr.Slider(minimum=1, maximum=max(2, len(trajectory.steps)), value=1, step=1, interactive=True,
                         label=f"Recorded step (1 to {len(trajectory.steps)})")
    yield (final, film_strip(trajectory), scrubber, animation(trajectory),
           plots.noise_levels_figure(trajectory.timesteps, trajectory.noise_levels), similarity,
           sample_summary(dm, settings, trajectory), trajectory, *on_scrub(1, trajectory))


def sample_summary(dm, settings: generate.Settings, trajectory: generate.Trajectory) -> str:
    """How many images, how long, how many U-Net evaluations, on which device."""
    per_image = trajectory.seconds / settings.count
    return (f"**{settings.count} images** in {trajectory.seconds:.2f} s ({per_image * 1000:.0f} ms per image), "
            f"{trajectory.network_evaluations} U-Net evaluations per image ({settings.steps} steps"
            f"{' × 2 for guidance' if trajectory.network_evaluations > settings.steps else ''}), "
            f"on {dm.unet.conv_in.weight.device}.")


@on_gpu(IMAGES)
def on_example(prompt, guidance, steps, sampler, eta, seed, count):
    """The finished images, film strip, animation and noise plot at once, without streaming: what a cached example
    stores (the same images Generate gives for these settings)."""
    dm = diffusion_model()
    settings = check_settings(prompt, guidance, steps, sampler, eta, seed, count)
    trajectory = generate.sample(dm, settings)
    summary = sample_summary(dm, settings, trajectory) + " A cached example: computed once, then served to everyone."
    return (images.gallery(trajectory.images, verdict_captions(trajectory.images)), film_strip(trajectory),
            animation(trajectory), plots.noise_levels_figure(trajectory.timesteps, trajectory.noise_levels), summary)


@on_gpu(QUICK)
def on_understood(prompt):
    """The prompt's similarity to each class, redrawn as the prompt is typed."""
    dm = diffusion_model()
    prompt = validate.text(prompt, "Prompt", MAX_PROMPT_CHARS)
    return plots.similarity_figure(CLASS_NAMES, generate.understood(dm, prompt))


def on_scrub(index, trajectory):
    """x_t, predicted x0 and predicted noise of every image at one recorded step."""
    if trajectory is None:
        return gr.skip(), gr.skip(), gr.skip(), "Generate images first."
    index = min(validate.number(index, "Step", 1, 1000, integer=True), len(trajectory.steps))
    step = trajectory.steps[index - 1]
    columns = square_columns(len(step.x_t))
    pictures = [images.grid(images.pictures(v.float(), scale=3, value_range=r), columns)
                for v, r in ((step.x_t, 1.0), (step.x0_pred, 1.0), (step.eps_pred, NOISE_RANGE))]
    caption = (f"Step {step.index + 1} of {len(trajectory.timesteps)}: t = {step.t}, noise level "
               f"√(1 − ᾱₜ) = {step.noise_level:.3f}.")
    return *pictures, caption


@on_gpu(IMAGES)
def on_compare(prompt, steps, seed, count):
    """The same start noise at guidance 0, 1, 3 and 7."""
    dm = diffusion_model()
    settings = check_settings(prompt, 3.0, steps, "DDIM", 0.0, seed, count)
    batches = generate.compare_guidance(dm, settings, GUIDANCE_SCALES)
    return [images.gallery(b, verdict_captions(b)) for b in batches]


@on_gpu(QUICK)
def on_forward(example, t, seed):
    """x0, the noise, x_t and the model's one-shot x0 estimate for a shipped example at timestep t."""
    dm = diffusion_model()
    if example not in CLASS_NAMES:
        raise gr.Error(f"Pick one of the examples: {', '.join(CLASS_NAMES)}.")
    t = validate.number(t, "Timestep t", 0, dm.schedule.T - 1, integer=True)
    view = generate.forward_process(dm, example_image(CLASS_NAMES.index(example)), t, validate.seed(seed))
    shown = [images.pictures(v)[0] for v in (view.x0, view.x_t, view.x0_pred)]
    noise = images.pictures(view.noise, value_range=NOISE_RANGE)[0]
    signal, noise_curve = (c.tolist() for c in signal_noise_levels(dm.schedule))
    text = (f"At t = {t}: x_t keeps **{view.signal:.3f}** of x0 and adds **{view.noise_level:.3f}** of noise. "
            f"The model's one-shot estimate of x0 misses by {view.reconstruction_rmse:.3f} (RMS, pixels in [-1, 1]).")
    return shown[0], noise, shown[1], shown[2], text, plots.schedule_figure(signal, noise_curve, t)


@on_gpu(IMAGES)
def on_interpolate(prompt, seed_a, seed_b, frames, steps, guidance):
    """A morph between two seeds' images: slerp between their start noise, then deterministic DDIM."""
    dm = diffusion_model()
    settings = check_settings(prompt, guidance, steps, "DDIM", 0.0, seed_a, 1)
    frames = validate.number(frames, "Frames", 2, MAX_FRAMES, integer=True)
    x = generate.interpolate_noise(dm, settings, validate.seed(seed_b), frames)
    pictures = images.pictures(x, scale=3)
    strip = images.grid(pictures, columns=min(len(pictures), 8))
    return strip, images.save_gif(pictures + pictures[-2:0:-1], seconds=4.0, hold_last=0.1)
