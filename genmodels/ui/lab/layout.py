"""The 2-D lab tab: three families learning the same points live, their shared measures, the race, and a look inside
each model."""
import inspect

import gradio as gr

from genmodels.gan.requests import MAX_STEPS_PER_CALL
from genmodels.lab import ar2d, diffusion2d
from genmodels.lab.lab import FAMILIES, RACE_STEPS, REDRAW_EVERY
from genmodels.gan.toy_data import MAX_CUSTOM_POINTS
from genmodels.lab.requests import DEFAULTS, PRESETS
from genmodels.ui.arrival import on_arrival
from genmodels.ui.equations import LATEX
from genmodels.ui.lab import plots
from genmodels.ui.lessons import Lesson, Run, add_lessons, run_lessons
from genmodels.ui.lab.views import (
    VIEWS,
    lab_point,
    lab_preview,
    lab_race,
    lab_reset,
    lab_step,
    on_canvas_click,
    show_canvas,
    show_inside,
)
from genmodels.ui.outputs import OUTPUT_CLASS
from genmodels.ui.share import add_copy_link
from genmodels.ui.wiring import by_name

SESSION_SECONDS = 3600  # an idle session's models are dropped after an hour
CONCURRENT_TRAININGS = 4  # lab trainings running at once over all sessions; more wait in the queue
# the public endpoints' orders
STEP_ARGUMENTS, RACE_ARGUMENTS, RESET_ARGUMENTS = (tuple(inspect.signature(f).parameters)
                                                   for f in (lab_step, lab_race, lab_reset))
DATA_CHOICES = [("Ring of 8", "ring"), ("Grid of 25", "grid"), ("Two moons", "moons"), ("Your points", "custom")]
INTRO = """
Three families learn **the same points at once**, measured alike: press **Play**, or **Race** to see which
covers every mode first.
"""
HOW_THEY_LEARN = rf"""
- **Diffusion** adds Gaussian noise to the points (the same cosine schedule as the image model, $T = 1000$) and
  trains a small network $\epsilon_\theta(x_t, t)$ to say which noise was added. Sampling starts from pure noise
  and removes the predicted noise step by step (DDPM, or the deterministic DDIM), so one sample costs one network
  call per step. *Inside*: the field of arrows shows where the network pushes a point at noise level $t$, and the
  paths follow samples from noise to data.
- **Autoregressive** cuts the plane into bins and writes a point as two tokens, its column and then its row, so
  $p(x, y) = p(x)\,p(y \mid x)$: the same next-token rule as the text model, with a vocabulary of bins. It trains
  by cross-entropy and samples in two network calls. Its samples can never be sharper than its bins.
- **GAN**: the Live 2-D GAN of the GAN tab. The generator maps noise to a point in one call, and learns only
  through what the discriminator (the background) tells it.
- **The race** trains all three from step 0 in turns of 50 steps and stops each one when every mode is covered,
  or at {RACE_STEPS:,} steps.
- **Measures**: a mode is covered when at least 1% of the samples lie within 3σ of it, and a family has covered
  the data once every mode is covered with at least half of its samples on modes (a cloud of noise touches a few
  modes with 1% of its points, and that is no cover); the distance is the sliced
  Wasserstein distance to 512 fixed real points (fresh real points score the "real" figure); loss stability is the
  spread of the loss's 50-step means over the last 500 steps.
"""


# every lesson starts from these (the defaults, seed 0, on the ring), so one lesson's change never leaks into the next
BASE = {name: DEFAULTS[name] for name in ("sampler", "diffusion_steps", "bins", "temperature", "x_bin", "lr_g",
                                          "lr_d")} | {"dataset": "ring", "seed": 0}
LESSONS = [
    Lesson("Who covers every mode first?", BASE | {"families": list(FAMILIES), "steps": 1500},
           "All three start from scratch on the ring of 8 and train 1,500 steps each. Which one will be the first to "
           "put samples on all 8 modes: diffusion, autoregressive or the GAN?",
           "The autoregressive model covers all 8 at the first redraw (step 50): it only has to learn which bins "
           "hold data, a plain classification. Diffusion and the GAN need about a thousand steps to pull their "
           "points onto the ring (read **covered the data at step** in the table). Speed of sampling is the other "
           "way round: compare the network evaluations per sample."),
    Lesson("Too few sampling steps", BASE | {"families": ["diffusion"], "steps": 1500, "diffusion_steps": 2},
           "The diffusion model trains 1,500 steps but samples in 2 steps instead of 50. Will its points land on the "
           "ring?",
           "No: two big jumps from noise land almost every point between the modes, near the average of the data, "
           "and no mode is covered. The network is fine: set **Sampling steps** back to 50 and press **Train N "
           "steps** for 10 steps, and the same model puts its points on all 8 modes."),
    Lesson("A coarse grid", BASE | {"families": ["autoregressive"], "steps": 500, "bins": 6, "x_bin": 3},
           "The autoregressive model gets only 6 x 6 bins, each a unit wide. Will its samples sit on the 8 small "
           "clusters of the ring?",
           "It learns which cells hold data (look at its p(x) and p(y | x) beside the data's), but a token names a "
           "cell, not a spot inside it: samples spread over whole cells, almost none within 3σ of a mode, and "
           "it covers at most one or two modes. With 32 bins it covers all 8."),
    Lesson("A GAN that collapses", BASE | {"families": ["gan"], "steps": 1500, "lr_g": 2e-3, "lr_d": 2e-4},
           "The generator now learns 10 times faster than the discriminator. After 1,500 steps, how many of the 8 "
           "modes will the GAN cover?",
           "At most one at any redraw (see the modes-covered curve): the generator chases whichever spot the slow "
           "discriminator currently rates as real and abandons it when the discriminator catches up. The sample "
           "cloud jumps around the plane instead of spreading over the ring: mode collapse."),
]
KEPT_BY_PRESETS = ("dataset", "points", "seed")  # a preset sets how the models learn, not what they learn


def preset_values(name) -> dict:
    """The preset's values over the defaults, by name."""
    return DEFAULTS | PRESETS.get(name, {})


def build_tab(page: gr.Blocks) -> dict:
    """Lay out the lab and wire its events (call inside gr.Blocks); returns the controls a link shares."""
    gr.Markdown(INTRO)
    run = gr.State(None, time_to_live=SESSION_SECONDS)
    with gr.Row(elem_classes="gm-lab-toolbar"):
        play = gr.Button("Play", variant="primary", elem_id="lab-play", min_width=90)
        pause = gr.Button("Pause", elem_id="lab-pause", min_width=90)
        train = gr.Button("Train N steps", elem_id="lab-train", min_width=120)
        race = gr.Button("Race", elem_id="lab-race", min_width=90)
        reset = gr.Button("Reset", elem_id="lab-reset", min_width=90)
    with gr.Row(equal_height=False):
        planes = {f"{family}_plane": gr.Plot(label=plots.FAMILY_NAMES[family], show_label=False,
                                             elem_id=f"lab-{family}-plane", min_width=280) for family in FAMILIES}
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            controls = {
                "families": gr.CheckboxGroup([(plots.FAMILY_NAMES[f], f) for f in FAMILIES], value=list(FAMILIES),
                                             label="Train", elem_id="lab-families"),
                "steps": gr.Slider(10, MAX_STEPS_PER_CALL, value=500, step=10, label="Steps per press (each)",
                                   elem_id="lab-steps"),
            }
            race_steps = gr.Slider(REDRAW_EVERY, RACE_STEPS, value=RACE_STEPS, step=REDRAW_EVERY,
                                   label="The race stops a family after", elem_id="lab-race-steps")
            lessons_column = gr.Column()
            preset = gr.Dropdown(list(PRESETS), value=next(iter(PRESETS)), label="Preset", elem_id="lab-preset")
            controls["dataset"] = gr.Radio(DATA_CHOICES, value="ring", label="Data", elem_id="lab-dataset")
            canvas = gr.Image(show_canvas("ring", ""), label="Click to add a point (click it again to remove it)",
                              alt_text="The plane from -3 to 3: the chosen data's modes as grey rings, your own "
                                       "points as green dots", interactive=False, elem_id="lab-canvas", height=300,
                              width=300, buttons=[], show_label=True, elem_classes=[OUTPUT_CLASS])
            controls["points"] = gr.Textbox("", label=f"Your points (x,y pairs; at most {MAX_CUSTOM_POINTS})",
                                            placeholder="-1,1; 1,-1", elem_id="lab-points")
            controls["seed"] = gr.Number(0, precision=0, label="Seed", elem_id="lab-seed")
            with gr.Accordion("Diffusion", open=False):
                controls["sampler"] = gr.Radio([("DDIM", "ddim"), ("DDPM", "ddpm")], value="ddim", label="Sampler",
                                               elem_id="lab-sampler")
                controls["diffusion_steps"] = gr.Slider(*diffusion2d.SAMPLE_STEPS_RANGE, step=1,
                                                        value=DEFAULTS["diffusion_steps"], label="Sampling steps",
                                                        elem_id="lab-diffusion-steps")
                controls["field_t"] = gr.Slider(*diffusion2d.FIELD_T_RANGE, step=1, value=DEFAULTS["field_t"],
                                                label="Noise level t of the field", elem_id="lab-field-t")
            with gr.Accordion("Autoregressive", open=False):
                controls["bins"] = gr.Slider(*ar2d.BINS_RANGE, step=1, value=DEFAULTS["bins"], label="Bins per axis",
                                             elem_id="lab-bins")
                controls["temperature"] = gr.Slider(0.1, ar2d.TEMPERATURE_MAX, step=0.05,
                                                    value=DEFAULTS["temperature"], label="Temperature",
                                                    elem_id="lab-temperature")
                controls["x_bin"] = gr.Slider(0, ar2d.BINS_RANGE[1] - 1, step=1, value=DEFAULTS["x_bin"],
                                              label="Column x whose p(y | x) is shown", elem_id="lab-x-bin")
            with gr.Accordion("GAN", open=False):
                with gr.Row():
                    controls["lr_g"] = gr.Number(1e-3, step=1e-4, label="G learning rate", elem_id="lab-lr-g")
                    controls["lr_d"] = gr.Number(1e-3, step=1e-4, label="D learning rate", elem_id="lab-lr-d")
        with gr.Column(scale=2, min_width=300):
            lesson_note = gr.Markdown(elem_id="lab-lessons-notice")
            stats = gr.Markdown(elem_id="lab-stats")
            progress = gr.Plot(label="Modes covered and distance to the data", elem_id="lab-progress")
    inside = gr.State("diffusion")  # the open inside tab: the only one a redraw draws
    with gr.Tabs():
        with gr.Tab("Inside diffusion", id="diffusion") as inside_diffusion:
            with gr.Row():
                field = gr.Plot(label="Where the network pushes at noise level t", elem_id="lab-field", min_width=300)
                paths = gr.Plot(label="Sample paths from noise to points", elem_id="lab-paths", min_width=300)
        with gr.Tab("Inside autoregressive", id="autoregressive") as inside_autoregressive:
            conditionals = gr.Plot(label="p(x) and p(y | x)", elem_id="lab-conditionals")
        with gr.Tab("Inside the GAN", id="gan") as inside_gan:
            with gr.Row():
                manifold = gr.Plot(label="The generator's manifold", elem_id="lab-manifold", min_width=300)
                gan_curves = gr.Plot(label="GAN training curves", elem_id="lab-gan-curves", min_width=300)
    with gr.Accordion("How each family learns, and what is measured", open=False):
        gr.Markdown(HOW_THEY_LEARN, latex_delimiters=LATEX)
    with gr.Accordion("Raw numbers", open=False):
        numbers = gr.JSON(label="Latest snapshot", elem_id="lab-numbers")
    with lessons_column:
        lesson_picker = add_lessons(LESSONS, controls, "lab-lessons")
    shared = controls | {"race_steps": race_steps}
    add_copy_link("lab", shared)

    views = planes | {"stats": stats, "progress": progress, "field": field, "paths": paths,
                      "conditionals": conditionals, "manifold": manifold, "gan_curves": gan_curves, "numbers": numbers}
    outputs = [run, *(views[name] for name in VIEWS)]
    settings = {name: control for name, control in controls.items() if name not in ("families", "steps")}
    # preprocess=False: the request checks every value as sent and names a bad one (Gradio's own Slider and Number
    # would crash on text or NaN from an API caller)
    step_inputs = {"run": run, "inside": inside, **controls}
    options = dict(concurrency_limit=CONCURRENT_TRAININGS, concurrency_id="lab-training", preprocess=False)
    train.click(lab_step, [step_inputs[name] for name in STEP_ARGUMENTS], outputs, api_name="lab_step",
                show_progress="minimal", **options)
    play_steps = gr.State(MAX_STEPS_PER_CALL)  # Play trains the most one call may
    play_inputs = step_inputs | {"steps": play_steps}
    playing = play.click(lab_step, [play_inputs[name] for name in STEP_ARGUMENTS], outputs, api_name="ui_lab_play",
                         api_visibility="private", show_progress="hidden", **options)
    race_inputs = {"run": run, "inside": inside, **settings, "race_steps": race_steps}
    racing = race.click(lab_race, [race_inputs[name] for name in RACE_ARGUMENTS], outputs, api_name="lab_race",
                        show_progress="hidden", **options)
    pause.click(None, None, None, cancels=[playing, racing], api_name="ui_lab_pause", api_visibility="private")
    reset_inputs = {"inside": inside, **settings}
    reset.click(lab_reset, [reset_inputs[name] for name in RESET_ARGUMENTS], outputs, api_name="lab_reset",
                preprocess=False)
    for family, tab in (("diffusion", inside_diffusion), ("autoregressive", inside_autoregressive),
                        ("gan", inside_gan)):
        tab.select(lambda family=family: family, None, inside, api_name=f"ui_lab_inside_{family}",
                   api_visibility="private", show_progress="hidden").then(
            show_inside, [run, inside], outputs[1:], api_name=f"ui_lab_show_{family}", api_visibility="private",
            show_progress="hidden")
    on_arrival(page, by_name(lab_preview, list(settings)), settings, outputs[1:], "ui_lab_reset")
    tuned = [name for name in settings if name not in KEPT_BY_PRESETS]
    preset.input(lambda name: [preset_values(name)[n] for n in tuned], preset, [settings[n] for n in tuned],
                  api_name="ui_lab_preset", api_visibility="private", show_progress="hidden")
    canvas.select(on_canvas_click, controls["points"], [controls["points"], controls["dataset"], canvas],
                  api_name="ui_lab_click", api_visibility="private", show_progress="hidden")
    gr.on([controls["dataset"].change, controls["points"].blur], show_canvas,
          [controls["dataset"], controls["points"]], canvas, api_name="ui_lab_canvas", api_visibility="private",
          show_progress="hidden")
    gr.api(lab_point, api_name="lab_point")
    run_lessons(lesson_picker, LESSONS, controls, lesson_note,  # each lesson starts from new models, then trains
                [Run(lab_reset, {name: reset_inputs[name] for name in RESET_ARGUMENTS}, outputs),
                 Run(lab_step, {name: step_inputs[name] for name in STEP_ARGUMENTS}, outputs)])
    return shared
