"""The diffusion tab's page handlers: build the family's request from the widgets, call it, draw the result."""
import gradio as gr
import torch

from genmodels.data.fashion_mnist import CLASS_NAMES
from genmodels.diffusion import generate, map_requests
from genmodels.diffusion import requests as family
from genmodels.ui import images, plots
from genmodels.ui.diffusion.plots import map_figure, noise_correlation_figure, noise_scatter_figure
from genmodels.ui.hosting import IMAGES, QUICK, answers, on_gpu
from genmodels.ui.judge import verdict_captions, verdict_label
from genmodels.validation import number

STRIP_FRAMES = 10  # columns of the film strip
STREAM_UPDATES = 20  # gallery refreshes while sampling
NOISE_RANGE = 3.0  # predicted noise is shown from -3 to 3 standard deviations
SHOWN_PROMPT = 40  # characters of the prompt a map's title quotes


def judged_gallery(x: torch.Tensor, verdicts: list[dict]) -> list[tuple]:
    """A gallery of the images with the judge's verdict under each."""
    return images.gallery(x, verdict_captions(verdicts, len(x)))


def film_strip(trajectory: generate.Trajectory, frames: int = STRIP_FRAMES):
    """Image 1 at about `frames` evenly spaced recorded steps (x_t on top, predicted x0 below), then the final image,
    which no recorded x_t is (each is a step's input)."""
    recorded = trajectory.steps
    picks = sorted({round(i * (len(recorded) - 1) / max(1, frames - 1)) for i in range(min(frames, len(recorded)))})
    final = images.upscale(images.to_uint8(trajectory.images[:1])[0], 4)
    tops = [images.upscale(images.to_uint8(recorded[i].x_t[:1])[0], 4) for i in picks] + [final]
    bottoms = [images.upscale(images.to_uint8(recorded[i].x0_pred[:1])[0], 4) for i in picks] + [final]
    labels = [f"t={recorded[i].t}" for i in picks] + ["final"] + ["x0 est."] * len(picks) + ["final"]
    return images.grid(tops + bottoms, columns=len(picks) + 1, labels=labels)


def animation(trajectory: generate.Trajectory) -> str:
    """A GIF of every recorded x_t (all images in a grid), ending on the final images."""
    columns = images.square_columns(len(trajectory.images))
    frames = [images.grid(images.pictures(step.x_t.float(), scale=3), columns) for step in trajectory.steps]
    frames.append(images.grid(images.pictures(trajectory.images, scale=3), columns))
    return images.save_gif(frames, seconds=4.0, hold_last=1.5)


def noise_figure(trajectory: generate.Trajectory):
    """The noise level at each step the sampler took."""
    return plots.noise_levels_figure(trajectory.timesteps, trajectory.noise_levels)


def similarity_figure(similarity: list[float]):
    """The prompt's similarity to each class, as the text encoder read it."""
    return plots.similarity_figure(CLASS_NAMES, similarity)


@on_gpu(IMAGES)
def on_diffuse(prompt, guidance, steps, sampler, eta, seed, count):
    """Stream the predicted x0 while sampling, then show the images, film strip, scrubber, animation and plots."""
    request = family.DiffusionRequest.build(prompt=prompt, guidance=guidance, steps=steps, sampler=sampler, eta=eta,
                                            seed=seed, count=count)
    similarity = similarity_figure(family.understood(request.prompt))
    every = max(1, request.steps // STREAM_UPDATES)
    trajectory = None
    for step, trajectory in family.diffuse_stream(request):
        if step.index % every == 0 and step.index < request.steps - 1:
            label = f"step {step.index + 1}/{request.steps}: x0 estimate"
            preview = images.gallery(step.x0_pred, [label] * len(step.x0_pred))
            yield (preview, gr.skip(), gr.skip(), gr.skip(), gr.skip(), similarity,
                   f"Sampling… step {step.index + 1} of {request.steps} (t = {step.t})", *[gr.skip()] * 5)
    result = family.diffusion_result(request, trajectory)
    scrubber = gr.Slider(minimum=1, maximum=max(2, len(trajectory.steps)), value=1, step=1, interactive=True,
                         label=f"Recorded step (1 to {len(trajectory.steps)})")
    yield (judged_gallery(trajectory.images, result.verdicts), film_strip(trajectory), scrubber,
           animation(trajectory), noise_figure(trajectory), similarity, sample_summary(result), trajectory,
           *on_scrub(1, trajectory))


def sample_summary(result: family.DiffusionResult) -> str:
    """How many images, how long, how many U-Net evaluations, on which device."""
    request, trajectory = result.request, result.trajectory
    per_image = trajectory.seconds / request.count
    return (f"**{request.count} images** in {trajectory.seconds:.2f} s ({per_image * 1000:.0f} ms per image), "
            f"{trajectory.network_evaluations} U-Net evaluations per image ({request.steps} steps"
            f"{' × 2 for guidance' if trajectory.network_evaluations > request.steps else ''}), "
            f"on {result.device}.")


@on_gpu(IMAGES)
def on_example(prompt, guidance, steps, sampler, eta, seed, count):
    """The finished images, film strip, animation and noise plot at once, without streaming: what a cached example
    stores (the same images Generate gives for these settings)."""
    request = family.DiffusionRequest.build(prompt=prompt, guidance=guidance, steps=steps, sampler=sampler, eta=eta,
                                            seed=seed, count=count)
    result = family.diffuse_recorded(request)
    trajectory = result.trajectory
    summary = sample_summary(result) + " A cached example: computed once, then served to everyone."
    return (judged_gallery(trajectory.images, result.verdicts), film_strip(trajectory), animation(trajectory),
            noise_figure(trajectory), summary)


@on_gpu(QUICK)
def on_understood(prompt):
    """The prompt's similarity to each class, redrawn as the prompt is typed."""
    return similarity_figure(family.understood(prompt))


@answers
def on_scrub(index, trajectory):
    """x_t, predicted x0 and predicted noise of every image at one recorded step."""
    if trajectory is None:
        return gr.skip(), gr.skip(), gr.skip(), "Generate images first."
    index = min(family.LIMITS["step"].check(index), len(trajectory.steps))
    step = trajectory.steps[index - 1]
    columns = images.square_columns(len(step.x_t))
    pictures = [images.grid(images.pictures(v.float(), scale=3, value_range=r), columns)
                for v, r in ((step.x_t, 1.0), (step.x0_pred, 1.0), (step.eps_pred, NOISE_RANGE))]
    caption = (f"Step {step.index + 1} of {len(trajectory.timesteps)}: t = {step.t}, noise level "
               f"√(1 − ᾱₜ) = {step.noise_level:.3f}.")
    return *pictures, caption


@on_gpu(IMAGES)
def on_compare(prompt, steps, seed, count):
    """The same start noise at guidance 0, 1, 3 and 7."""
    request = family.GuidanceComparisonRequest.build(prompt=prompt, steps=steps, seed=seed, count=count)
    result = family.compare_guidance(request)
    return [judged_gallery(b, v) for b, v in zip(result.batches, result.verdicts, strict=True)]


@on_gpu(QUICK)
def on_forward(example, t, seed):
    """x0, the noise, x_t and the model's one-shot x0 estimate for a shipped example at timestep t, and how well the
    U-Net's predicted noise matches the true noise there and at every t."""
    request = family.ForwardRequest.build(example=family.example_index(example), t=t, seed=seed)
    prediction = family.noise_prediction(request)
    result, view, r = prediction.forward, prediction.forward.view, prediction.correlation
    shown = [images.pictures(v)[0] for v in (view.x0, view.x_t, view.x0_pred)]
    noise = images.pictures(view.noise, value_range=NOISE_RANGE)[0]
    text = (f"At t = {request.t}: x_t keeps **{view.signal:.3f}** of x0 and adds **{view.noise_level:.3f}** of "
            f"noise. The model's one-shot estimate of x0 misses by {view.reconstruction_rmse:.3f} (RMS, pixels in "
            f"[-1, 1]). Its predicted noise ε̂ correlates **r = {r:.3f}** with the noise ε that was added.")
    data = prediction.to_json()
    curve = data["curve"]
    return (shown[0], noise, shown[1], shown[2], text,
            plots.schedule_figure(result.signal_curve, result.noise_curve, request.t),
            noise_scatter_figure(data["noise"], data["eps_pred"], r, request.t),
            noise_correlation_figure(curve["timesteps"], curve["correlations"], curve["noise_levels"], request.t, r))


def map_title(request: map_requests.MapRequest) -> str:
    """What the map compares, and the settings its paths share."""
    prompt = f"'{request.prompt[:SHOWN_PROMPT]}'" if request.prompt else "no prompt"
    shared = {"seeds": f"8 start noises of seed {request.seed}, guidance {request.guidance:g}, {request.sampler}",
              "guidance": f"guidance 0, 1, 3, 7 from start noises #1, #2, {request.sampler}",
              "sampler": f"DDIM vs DDPM from start noises #1 to #4, guidance {request.guidance:g}"}[request.comparison]
    return f"Paths from noise to image<br><sup>{prompt}</sup><br><sup>{shared}</sup>"


def map_view(result: map_requests.MapResult, step: int) -> tuple:
    """The map with `step` marked (0: the start noise, the step count: the final images), and every path's x_t there."""
    m, data = result.map, result.to_json()
    thumbnails = [images.data_uri(p) for p in images.pictures(m.images, scale=2)]
    figure = map_figure(data["paths"], thumbnails, step, m.timesteps, m.projection.explained, map_title(result.request))
    last = len(m.timesteps)
    ends = [f" → {verdict_label(v)}" if step == last else "" for v in result.verdicts]
    captions = [f"{label}{end}" for label, end in zip(result.labels(), ends)]
    return figure, images.gallery(m.x_t[:, step].float(), captions)


def map_summary(result: map_requests.MapResult) -> str:
    """How many runs and steps, how long, and how much of the x_t's spread the plane shows."""
    m = result.map
    runs, steps = len(m.names), len(m.timesteps)
    first, second = m.projection.explained
    return (f"In pixel space two of these paths start **{m.start_distance:.1f}** apart on average and end "
            f"**{m.end_distance:.1f}** apart. The map is the plane of the two principal components of all "
            f"{runs * (steps + 1)} x_t (PC1 shows {first:.0%} of their spread, PC2 {second:.0%}). {runs} runs × "
            f"{steps} steps in {m.seconds:.2f} s, stepped side by side through the U-Net ({m.network_evaluations} "
            "image evaluations).")


@on_gpu(IMAGES)
def on_map(prompt, comparison, guidance, sampler, steps, seed):
    """Sample the map's runs together, then draw their paths with the middle step marked."""
    request = map_requests.MapRequest.build(prompt=prompt, comparison=comparison, guidance=guidance, sampler=sampler,
                                            steps=steps, seed=seed)
    result = map_requests.diffusion_map(request)
    middle = request.steps // 2
    marker = gr.Slider(minimum=0, maximum=request.steps, value=middle, step=1, interactive=True,
                       label=f"Marked step (0: pure noise, {request.steps}: the final images)")
    return *map_view(result, middle), marker, map_summary(result), result


def on_map_open(result, prompt, comparison, guidance, sampler, steps, seed):
    """The map on the sub-tab's first opening; later openings keep the map drawn before."""
    if result is not None:
        return (gr.skip(),) * 5
    return on_map(prompt, comparison, guidance, sampler, steps, seed)


@answers
def on_map_step(step, result):
    """The same map with another step marked."""
    if result is None:
        return gr.skip(), gr.skip()
    return map_view(result, number(step, "Marked step", 0, result.request.steps, integer=True))


@on_gpu(IMAGES)
def on_interpolate(prompt, seed_a, seed_b, frames, steps, guidance):
    """A morph between two seeds' images: slerp between their start noise, then deterministic DDIM."""
    request = family.InterpolationRequest.build(prompt=prompt, seed_a=seed_a, seed_b=seed_b, frames=frames,
                                                steps=steps, guidance=guidance)
    pictures = images.pictures(family.interpolate_noise(request).images, scale=3)
    strip = images.grid(pictures, columns=min(len(pictures), 8))
    return strip, images.save_gif(pictures + pictures[-2:0:-1], seconds=4.0, hold_last=0.1)
