"""The diffusion tab: text-prompted sampling with every step visible, guidance, the forward process, morphs."""
from pathlib import Path

import gradio as gr

from genmodels.checkpoint import read_log
from genmodels.data.fashion_mnist import CLASS_NAMES
from genmodels.diffusion.generate import SAMPLERS
from genmodels.diffusion.pretrained import ASSET_DIR
from genmodels.diffusion.requests import GUIDANCE_SCALES, LIMITS, MAX_FRAMES, MAX_GUIDANCE, MAX_IMAGES, MAX_STEPS
from genmodels.ui.diffusion.views import (
    on_compare,
    on_diffuse,
    on_example,
    on_forward,
    on_interpolate,
    on_map,
    on_map_open,
    on_map_step,
    on_scrub,
    on_understood,
)
from genmodels.ui.equations import LATEX, add_equations
from genmodels.ui.hosting import EXAMPLES_CACHE_MODE
from genmodels.ui.lessons import Lesson, Run, add_lessons, run_lessons
from genmodels.ui.outputs import animation, image_gallery, picture, wrapping_tabs
from genmodels.ui.share import add_copy_link
from genmodels.ui.timeline import add_timeline
from genmodels.ui.wiring import listen

DEFAULT_PROMPT = "a sneaker"
EXAMPLE_PROMPTS = ["a sneaker", "a pair of trousers", "an ankle boot", "a handbag", "a summer dress",
                   "a warm winter coat", ""]
INTRO = r"""
A diffusion model makes an image by removing noise. Training takes a real image $x_0$, mixes in Gaussian noise
$\epsilon$ up to a random timestep $t$ in one jump,
$$x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\epsilon, \qquad \bar\alpha_t = \prod_{s \le t}(1-\beta_s),$$
and teaches a U-Net $\epsilon_\theta(x_t, t, \text{prompt})$ to say which noise was added. Any noisy image then
gives a guess of the clean one,
$$\hat x_0 = \frac{x_t - \sqrt{1-\bar\alpha_t}\,\epsilon_\theta}{\sqrt{\bar\alpha_t}}.$$
Sampling starts from pure noise and repeatedly steps to a slightly less noisy image using that guess. This model
was trained here on Fashion-MNIST (28 × 28 clothing photos) with varied captions.
"""
SETTINGS_HELP = r"""
- **Guidance scale** $s$ mixes the predictions with and without the prompt:
  $\epsilon = \epsilon_\text{uncond} + s\,(\epsilon_\text{cond} - \epsilon_\text{uncond})$. $s = 0$ ignores the
  prompt, $s = 1$ is the plain conditional model, larger $s$ follows the prompt harder (less variety).
- **Steps**: how many of the 1000 training timesteps the sampler visits (evenly spaced, first and last always).
- **DDPM** adds fresh noise at every step; **DDIM** with $\eta = 0$ is deterministic: the same seed always gives
  the same image, and few steps already work. $\eta = 1$ makes DDIM as noisy as DDPM.
- The empty prompt is the unconditional model: it draws any of the ten kinds of clothing.
"""
FORWARD_HELP = r"""
The forward process needs no network: $x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\epsilon$ jumps
straight to any $t$. Step by step it is $x_t = \sqrt{1-\beta_t}\,x_{t-1} + \sqrt{\beta_t}\,\epsilon_t$; the two agree in
distribution. The model's estimate uses $\bar\alpha_t$:
$\hat x_0 = (x_t - \sqrt{1-\bar\alpha_t}\,\epsilon_\theta)/\sqrt{\bar\alpha_t}$. Written with $\beta_t$ instead of
$\bar\alpha_t$, as some summaries do, it is right only for $t = 1$ (here index 0), where $\bar\alpha_1 = 1-\beta_1$.
"""

MAP_HELP = r"""
Every $x_t$ is a point in 784 dimensions, one per pixel. The map flattens the runs' $x_t$ onto the plane of their
two **principal components** (PCA fitted on all of them): the two directions in which these points differ most. The
projection is linear, so each path keeps its true shape, only seen from one side. Random noise is big: two start
noises lie about $\sqrt{2 \cdot 784} \approx 40$ apart, while finished garments lie much closer together, so paths
from different noises **converge** as the noise is removed. Paths from the same start noise begin at one point and
**part** where their settings pull them apart.
"""
COMPARISONS = [("8 start noises", "seeds"), ("guidance 0, 1, 3, 7", "guidance"), ("DDIM vs DDPM", "sampler")]
MAP_STEPS = LIMITS["map_steps"]

LESSONS = [
    Lesson("Guidance 0 vs 7", {"prompt": "a sneaker", "guidance": 0.0, "steps": 50, "sampler": "DDIM", "eta": 0.0,
                               "count": 8},
           "Guidance 0 ignores the prompt 'a sneaker'. How many kinds of clothing will the judge find among the "
           "eight images?",
           "Guidance 0 ignores the prompt, so the judge finds all kinds of clothing. Then open Compare "
           "guidance: the same start noise at 0, 1, 3 and 7, where the sneaker takes hold as s grows and the "
           "images get bolder and more alike."),
    Lesson("Few steps vs many", {"guidance": 3.0, "steps": 5, "sampler": "DDIM", "eta": 0.0},
           "Five denoising steps instead of 50: will the images still be recognizable garments?",
           "Five DDIM steps already give recognizable garments, each step a big jump. Watch the film strip, then set "
           "50 steps with the same seed: the image is nearly the same, only finer, because DDIM with eta 0 follows "
           "one deterministic path that more steps trace more closely."),
    Lesson("DDPM vs DDIM", {"guidance": 3.0, "steps": 100, "sampler": "DDPM", "eta": 0.0},
           "DDPM adds fresh noise at every step. Near the end, will the film strip's x_t row look cleaner or "
           "grainier than DDIM's?",
           "DDPM adds fresh noise at every step, so the x_t row of the film strip stays grainy until the end and the "
           "same seed with another step count gives another garment. Switch to DDIM and press Generate again."),
    Lesson("The unconditional model", {"prompt": "", "guidance": 1.0, "steps": 50, "sampler": "DDIM", "eta": 0.0,
                                       "count": 16},
           "With an empty prompt, what will the sixteen images be: one class, or many?",
           "An empty prompt is the model trained without captions (15% of training): the judge finds a mix of "
           "classes among the 16 images, and the text-encoder chart shows no class standing out."),
]


def training_summary() -> str:
    """The committed evaluation in one paragraph (a hint when it is missing or unreadable)."""
    e = read_log(Path(ASSET_DIR) / "evaluation.json")
    if e is None:
        return "No evaluation recorded yet: run `python -m genmodels.diffusion.evaluate`."
    per_class = ", ".join(f"{name} {acc:.0%}" for name, acc in zip(CLASS_NAMES, e["per_class_accuracy"]))
    return (f"With guidance {e['guidance']} and {e['steps']} DDIM steps, the judge classifier recognizes "
            f"**{e['accuracy']:.1%}** of prompted samples as the prompted class ({per_class}). "
            f"Unconditional samples cover {e['unconditional_classes_covered']} of 10 classes. Measured by "
            f"`python -m genmodels.diffusion.evaluate` on {e['device']}.")


def build_tab(page: gr.Blocks) -> dict:
    """Lay out the tab and wire its events (call inside gr.Blocks); returns the controls a link shares."""
    gr.Markdown(INTRO, latex_delimiters=LATEX)
    add_equations("diffusion")
    trajectory_state = gr.State(None)
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            prompt = gr.Textbox(label="Prompt", value=DEFAULT_PROMPT, placeholder="Empty: the unconditional model",
                                elem_id="diffusion-prompt")
            guidance = gr.Slider(0, MAX_GUIDANCE, value=3, step=0.5, label="Guidance scale",
                                 elem_id="diffusion-guidance")
            steps = gr.Slider(1, MAX_STEPS, value=50, step=1, label="Steps", elem_id="diffusion-steps")
            with gr.Row():
                sampler = gr.Radio(list(SAMPLERS), value="DDIM", label="Sampler")
                eta = gr.Slider(0, 1, value=0, step=0.05, label="DDIM eta")
            with gr.Row():
                seed = gr.Number(0, precision=0, minimum=0, maximum=2**31 - 1, label="Seed")
                count = gr.Slider(1, MAX_IMAGES, value=8, step=1, label="Images", elem_id="diffusion-count")
            diffuse_button = gr.Button("Generate images", variant="primary", elem_id="diffuse-button")
            examples_column = gr.Column()
            lesson_controls = {"prompt": prompt, "guidance": guidance, "steps": steps, "sampler": sampler, "eta": eta,
                               "count": count}
            lesson_picker = add_lessons(LESSONS, lesson_controls, "diffusion-lessons")
            share_row = gr.Column()
            similarity_plot = gr.Plot(elem_id="similarity-plot",  # filled on arrival, with the first images
                                      label="What the text encoder understood")
            with gr.Accordion("What the settings do", open=False):
                gr.Markdown(SETTINGS_HELP, latex_delimiters=LATEX)
        with gr.Column(scale=2, min_width=320):
            lesson_note = gr.Markdown(elem_id="diffusion-lessons-notice")
            with wrapping_tabs() as view:
                with gr.Tab("Sample", id="sample"):
                    diffusion_stats = gr.Markdown(elem_id="diffusion-stats")
                    result_gallery = image_gallery("Images (the judge classifier's verdict below each)", columns=4,
                                                   elem_id="diffusion-gallery")
                    strip = picture("Film strip of image 1: x_t (top) and the x0 estimate (bottom)",
                                    elem_id="film-strip")
                    scrub = gr.Slider(1, 2, value=1, step=1, label="Recorded step", interactive=False,
                                      elem_id="diffusion-scrub")
                    scrub_caption = gr.Markdown(elem_id="scrub-caption")
                    with gr.Row():
                        scrub_xt = picture("x_t")
                        scrub_x0 = picture("x0 estimate")
                        scrub_eps = picture("predicted noise ε")
                    with gr.Row():
                        gif = animation("The whole trajectory (animation)", elem_id="diffusion-gif")
                        noise_plot = gr.Plot(label="Noise level along the chosen steps")
                with gr.Tab("Compare guidance", id="guidance"):
                    gr.Markdown("The same seed and prompt at guidance 0, 1, 3 and 7: watch the prompt take hold.")
                    compare_button = gr.Button("Compare", variant="primary", elem_id="compare-button")
                    with gr.Row():
                        compare_galleries = [image_gallery(f"guidance {s:g}", columns=2, height=340,
                                                           elem_id=f"compare-{i}")
                                             for i, s in enumerate(GUIDANCE_SCALES)]
                with gr.Tab("Paths on a map", id="map") as map_tab:
                    gr.Markdown(MAP_HELP, latex_delimiters=LATEX)
                    with gr.Row():
                        comparison = gr.Radio(COMPARISONS, value="guidance", label="The paths differ in",
                                              elem_id="map-comparison")
                        map_steps = gr.Slider(MAP_STEPS.low, MAP_STEPS.high, value=25, step=1, label="Steps per path",
                                              elem_id="map-steps")
                        map_button = gr.Button("Draw the map", variant="primary", elem_id="map-button")
                    map_stats = gr.Markdown(elem_id="map-stats")
                    map_plot = gr.Plot(label="Paths from noise to image", elem_id="map-plot")
                    map_step = gr.Slider(0, 2, value=1, step=1, label="Marked step", interactive=False,
                                         elem_id="map-step")
                    map_gallery = image_gallery("Every path's x_t at the marked step", columns=4, height="auto",
                                                elem_id="map-gallery")
                with gr.Tab("Forward process", id="forward") as forward_tab:
                    gr.Markdown(FORWARD_HELP, latex_delimiters=LATEX)
                    with gr.Row():
                        example = gr.Radio(CLASS_NAMES, value="Sneaker", label="Example image (Fashion-MNIST test set)")
                        t_slider = gr.Slider(0, 999, value=300, step=1, label="Timestep t", elem_id="forward-t")
                        forward_seed = gr.Number(0, precision=0, minimum=0, maximum=2**31 - 1, label="Noise seed")
                    with gr.Row():
                        forward_images = [picture(label) for label in
                                          ("x0 (real)", "noise ε", "x_t", "x0 estimate")]
                    forward_text = gr.Markdown(elem_id="forward-text")
                    with gr.Row():
                        noise_scatter = gr.Plot(label="Predicted vs true noise", elem_id="noise-scatter")
                        noise_curve = gr.Plot(label="Their correlation at every t", elem_id="noise-curve")
                    schedule_plot = gr.Plot(label="Signal and noise coefficients")
                with gr.Tab("Noise interpolation", id="interpolation"):
                    gr.Markdown("Deterministic DDIM (η = 0) maps each start noise to one image. Walk along the sphere "
                                "between two seeds' noise (spherical interpolation) and the images morph smoothly.")
                    with gr.Row():
                        seed_a = gr.Number(0, precision=0, minimum=0, maximum=2**31 - 1, label="Seed A")
                        seed_b = gr.Number(1, precision=0, minimum=0, maximum=2**31 - 1, label="Seed B")
                        frames = gr.Slider(2, MAX_FRAMES, value=8, step=1, label="Frames")
                        interpolate_button = gr.Button("Interpolate", variant="primary", elem_id="interpolate-button")
                    morph_strip = picture("From seed A to seed B", elem_id="morph-strip")
                    morph_gif = animation("Animation (there and back)")
                with gr.Tab("How it was trained", id="training"):
                    gr.Markdown(training_summary())
                    timeline = add_timeline("diffusion")

    settings = {"prompt": prompt, "guidance": guidance, "steps": steps, "sampler": sampler, "eta": eta, "seed": seed,
                "count": count}
    with examples_column:  # gr.Examples passes its inputs in order: on_example's parameters are in that order too
        gr.Examples([[p, 3.0, 50, "DDIM", 0.0, 0, 8] for p in EXAMPLE_PROMPTS], inputs=list(settings.values()),
                    outputs=[result_gallery, strip, gif, noise_plot, diffusion_stats], fn=on_example,
                    cache_examples=True, cache_mode=EXAMPLES_CACHE_MODE, api_name="ui_diffusion_example",
                    api_visibility="private", elem_id="diffusion-examples",
                    label="Examples (guidance 3, 50 DDIM steps, seed 0): answered from a cache",
                    example_labels=[p or "(empty: unconditional)" for p in EXAMPLE_PROMPTS])
    shared = {**settings, "example": example, "t": t_slider, "noise_seed": forward_seed, "seed_a": seed_a,
              "seed_b": seed_b, "frames": frames, "comparison": comparison, "map_steps": map_steps, "view": view, **timeline}
    with share_row:
        add_copy_link("diffusion", shared)
    scrub_views = [scrub_xt, scrub_x0, scrub_eps, scrub_caption]
    diffuse_outputs = [result_gallery, strip, scrub, gif, noise_plot, similarity_plot, diffusion_stats,
                       trajectory_state, *scrub_views]
    listen(diffuse_button.click, on_diffuse, settings, diffuse_outputs, arrive=page, api_name="ui_diffuse",
           api_visibility="private")
    run_lessons(lesson_picker, LESSONS, lesson_controls, lesson_note, [Run(on_diffuse, settings, diffuse_outputs)])
    prompt.change(on_understood, prompt, similarity_plot, api_name="ui_understood", api_visibility="private",
                  trigger_mode="always_last", show_progress="hidden")
    # input, not change: on_diffuse already sends the views for the slider value it sets, and drawing the same
    # images again would rewrite Gradio's cached files while the browser is still reading them
    listen(scrub.input, on_scrub, {"index": scrub, "trajectory": trajectory_state}, scrub_views, api_name="ui_scrub",
           api_visibility="private", show_progress="hidden", trigger_mode="always_last")
    listen(compare_button.click, on_compare, {"prompt": prompt, "steps": steps, "seed": seed, "count": count},
           compare_galleries, arrive=page, api_name="ui_compare_guidance", api_visibility="private")
    forward_inputs = {"example": example, "t": t_slider, "seed": forward_seed}
    forward_outputs = [*forward_images, forward_text, schedule_plot, noise_scatter, noise_curve]
    listen(forward_tab.select, on_forward, forward_inputs, forward_outputs, api_name="ui_forward_open",
           api_visibility="private", show_progress="hidden")
    for control in forward_inputs.values():
        listen(control.change, on_forward, forward_inputs, forward_outputs,
               api_name=f"ui_forward_{control.elem_id or control.label.split()[0].lower()}",
               api_visibility="private", trigger_mode="always_last", show_progress="hidden")
    map_state = gr.State(None)
    map_inputs = {"prompt": prompt, "comparison": comparison, "guidance": guidance, "sampler": sampler,
                  "steps": map_steps, "seed": seed}
    map_outputs = [map_plot, map_gallery, map_step, map_stats, map_state]
    listen(map_tab.select, on_map_open, {"result": map_state, **map_inputs}, map_outputs, api_name="ui_map_open",
           api_visibility="private")
    # arrive: a link that opens this sub-tab selects it without a select event, and would find it empty
    listen(map_button.click, on_map, map_inputs, map_outputs, arrive=page, api_name="ui_diffusion_map",
           api_visibility="private")
    listen(map_step.input, on_map_step, {"step": map_step, "result": map_state}, [map_plot, map_gallery],
           api_name="ui_map_step", api_visibility="private", show_progress="hidden", trigger_mode="always_last")
    listen(interpolate_button.click, on_interpolate,
           {"prompt": prompt, "seed_a": seed_a, "seed_b": seed_b, "frames": frames, "steps": steps,
            "guidance": guidance}, [morph_strip, morph_gif], arrive=page, api_name="ui_interpolate_noise",
           api_visibility="private")
    return shared
