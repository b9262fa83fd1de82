"""The live 2-D GAN (in the spirit of GAN Lab): each browser session trains its own small GAN on toy points.

The run lives in a gr.State, so two sessions never share one; `toy_gan_step` (Train) and `toy_gan_step_d` /
`toy_gan_step_g` (Step D / Step G) are both the buttons' events and public API endpoints (gradio_client keeps its
session, so repeated calls continue the same run).
"""
import inspect
from dataclasses import asdict

import gradio as gr

from genmodels.gan import toy2d
from genmodels.gan.requests import LIMITS, MAX_STEPS_PER_CALL
from genmodels.gan.toy2d import PRESETS, ToyGAN
from genmodels.gan.toy_requests import (
    CUSTOM,
    ManifoldRequest,
    ToyPartRequest,
    ToyStepRequest,
    preset_of,
    toy_manifold,
    toy_preset,
    toy_settings,
    train_toy,
    update_toy,
)
from genmodels.serving import processes
from genmodels.ui.arrival import on_arrival
from genmodels.ui.equations import LATEX
from genmodels.ui.gan import plots
from genmodels.ui.hosting import answers
from genmodels.ui.wiring import by_name, listen

SESSION_SECONDS = 3600  # an idle session's run is dropped after an hour
DEFAULT_PRESET = next(iter(PRESETS))
# Short, with the full story in an accordion, so the buttons and the plane fit one projector screen.
INTRO = """
The image GAN's game, small enough to watch every move: green dots are real data, orange diamonds the generator's
points, the background the discriminator's belief. Press **Play** and watch the diamonds hunt for the green.
"""
GAME = r"""
Real data are points in the plane (the dark green dots). The generator is a small network that turns random noise
$z$ into points (the orange diamonds, each with a faint trail of where it was at its last few snapshots, 50 steps
apart); the discriminator is another small network that scores every location of the plane with
$D(x) = P(\text{real})$ (the background: orange where it believes "real", purple where it believes "fake"). Each
step the discriminator first learns to separate green from orange, then the generator moves its points up the
discriminator's slope (the grey arrows show where its loss pushes them). **Step D** and **Step G** make one of
those two moves alone. When the game is balanced the diamonds spread over every cluster and the background fades to
an even 0.5; when the generator outruns a slow discriminator, its points chase one cluster after another and never
cover them all: **mode collapse**.

With the presets (measured here, every 1,000 steps): the ring covers all 8 modes by step 1,000, the grid all 25 by
step 2,000, and the moons come down to the noise floor of the distance by step 3,000; the collapse preset covers at
most 1 of the 8 modes at every check through step 4,000.
"""
SETTINGS_HELP = r"""
- **Generator loss**: *minimax* minimizes $\log(1 - D(G(z)))$, the game as first written; its gradient vanishes
  when the discriminator confidently rejects the fakes, so a generator that starts badly can stall.
  *Non-saturating* minimizes $-\log D(G(z))$ instead: the same goal, with strong gradients exactly where the
  generator is losing.
- **Learning rates** set how fast each player moves (Adam, β₁ = 0.5). Balanced rates converge; a generator much
  faster than its discriminator collapses.
- **D steps per G step**: discriminator updates before each generator update (Algorithm 1 of the original paper).
- **Step D** / **Step G**: one discriminator update alone / one generator update alone. The step counter counts
  generator updates, so Step G adds a step and Step D adds only to the count of D updates.
- Loss, learning rates and D steps apply to the running session from the next step; changing the data, seed or
  network sizes starts a new run.
"""

MANIFOLD_HELP = r"""
**The generator's manifold.** Each line of this mesh is one noise coordinate swept from its 1st to its 99th
percentile with the other held fixed, then mapped through $G$: every cell holds the same share of the noise. A flat
square of noise goes in; $G$ stretches and folds it over the plane. Where cells crowd together $G$ puts many
points, where they stretch thin it puts few, so a well-trained $G$ folds its grid onto the green data and pulls
the cells between clusters into thin threads. With more than two noise coordinates the mesh is a 2-D slice
through them (the others held at 0).
"""
LATEST = {"loss_d": "D loss {:.3f}", "loss_g": "G loss {:.3f}", "d_real": "mean D(x) on real {:.2f}",
          "d_fake": "mean D(G(z)) on generated {:.2f}"}


def summary(snapshot: dict, note: str = "") -> str:
    """Where the run stands, in words: step, losses, D's outputs, modes covered, distance to the data."""
    d_updates = snapshot["d_updates"]
    lines = [f"**Step {snapshot['step']:,}**, {d_updates:,} D update{'s' * (d_updates != 1)} (a step is one G "
             f"update; a session may train up to {toy2d.MAX_TOTAL_STEPS:,} steps)."]
    last = snapshot["last"]
    if last and None not in last.values():  # a lone Step G before any D update leaves D's figures out
        lines.append("; ".join(LATEST[key].format(last[key]) for key in LATEST if key in last)
                     + " (the mean outputs are both 0.5 at the balance point).")
    if snapshot["n_modes"]:
        lines.append(f"Modes covered: **{snapshot['modes_covered']} of {snapshot['n_modes']}** (a mode counts when "
                     f"at least 1% of the generated points lie within 3σ of it); {snapshot['in_modes']:.0%} of the "
                     "generated points sit on some mode.")
    if snapshot["distance"] is not None:
        lines.append(f"Sliced Wasserstein distance to the real points: **{snapshot['distance']:.3f}** (fresh real "
                     f"samples score {snapshot['distance_floor']:.3f}: that is as low as it goes).")
    if note:
        lines.append(note)
    if snapshot["message"]:
        lines.append(f"⚠️ {snapshot['message']}")
    return "\n\n".join(lines)


def draw(snapshot, note: str = "") -> tuple:
    """The plane, the loss curves, the summary, the raw numbers and G's manifold for one snapshot.

    The manifold is drawn here, with the plane, rather than from the numbers by a second event: that value's trip to
    the server and back cost a browser more than any chart on every redraw of Play. Its grid's numbers stay out of
    the raw numbers for the same reason; `gan_manifold` gives them."""
    data = snapshot.to_dict()
    curves = plots.training_curves_figure(data["history"], "Losses and D's mean outputs")
    numbers = {k: data[k] for k in ("step", "d_updates", "last", "modes_covered", "n_modes", "in_modes", "distance",
                                    "distance_floor", "diverged", "message")}
    return plots.toy_figure(data), curves, summary(data, note), numbers, plots.snapshot_manifold_figure(data)


@answers
def gan_manifold(run, grid_lines=toy2d.MESH_SIZE):
    """G of this session's run on a grid_lines x grid_lines grid of latents, as numbers."""
    return toy_manifold(run, ManifoldRequest.build(grid_lines=grid_lines)).to_json()


@answers
def toy_gan_step(run, dataset="ring", loss="non-saturating", lr_g=1e-3, lr_d=1e-3, d_steps=1, seed=0, steps=200,
                 batch_size=256, latent_dim=2, hidden=128, depth=3):
    """Train this session's toy GAN `steps` more steps with the given settings, streaming the picture."""
    request = ToyStepRequest.build(steps=steps, dataset=dataset, loss=loss, lr_g=lr_g, lr_d=lr_d, d_steps=d_steps,
                                   seed=seed, batch_size=batch_size, latent_dim=latent_dim, hidden=hidden, depth=depth)
    for update in processes.paced(processes.stream(train_toy, run, request)):  # trained in a worker process
        yield update.run, *draw(update.snapshot, update.note)


STEP_ARGUMENTS = tuple(inspect.signature(toy_gan_step).parameters)  # the public endpoint's order


@answers
def toy_gan_update(run, part="d", dataset="ring", loss="non-saturating", lr_g=1e-3, lr_d=1e-3, d_steps=1, seed=0,
                   batch_size=256, latent_dim=2, hidden=128, depth=3):
    """One update of this session's discriminator (part "d") or generator (part "g") alone, and the picture after."""
    request = ToyPartRequest.build(part=part, dataset=dataset, loss=loss, lr_g=lr_g, lr_d=lr_d, d_steps=d_steps,
                                   seed=seed, batch_size=batch_size, latent_dim=latent_dim, hidden=hidden, depth=depth)
    update = update_toy(run, request)
    return update.run, *draw(update.snapshot, update.note)


UPDATE_ARGUMENTS = tuple(inspect.signature(toy_gan_update).parameters)


@answers
def toy_gan_reset(**settings):
    """A fresh run with the current settings, shown at step 0."""
    run = ToyGAN(toy_settings(**settings))
    return run, *draw(run.snapshot(), "New run: press **Train** to start.")


def toy_gan_preview(**settings):
    """The step-0 picture of a run with these settings, without keeping the run: what the tab opens on (the first
    Train press starts this session's own run)."""
    _, *views = toy_gan_reset(**settings)
    return views


@answers
def apply_preset(name) -> dict:
    """The preset's value of each setting, by name."""
    return asdict(toy_preset(name))


def span(name: str) -> dict:
    """A slider's range: the limit's ends."""
    return {"minimum": LIMITS[name].low, "maximum": LIMITS[name].high}


def build_toy_tab(page: gr.Blocks) -> dict:
    """Lay out the live 2-D GAN and wire its events (call inside gr.Blocks); returns the controls a link shares."""
    defaults = PRESETS[DEFAULT_PRESET]
    settings = {}  # ToySettings' field name -> its widget, each made once by `setting`

    def setting(name: str, widget, **options) -> None:
        settings[name] = widget(value=getattr(defaults, name), **options)

    run_state = gr.State(None, time_to_live=SESSION_SECONDS)
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            gr.Markdown(INTRO)
            with gr.Accordion("How the game works", open=False):
                gr.Markdown(GAME, latex_delimiters=LATEX)
            preset = gr.Dropdown([*PRESETS, CUSTOM], value=DEFAULT_PRESET, label="Preset", elem_id="toy-preset")
            setting("dataset", gr.Radio, choices=list(toy2d.DATASETS), label="Real data")
            setting("loss", gr.Radio, choices=list(toy2d.LOSSES), label="Generator loss")
            with gr.Row():
                # no minimum/maximum on these Numbers: the request checks them and names the bad one
                setting("lr_g", gr.Number, label="G learning rate", step=1e-4, elem_id="toy-lr-g")
                setting("lr_d", gr.Number, label="D learning rate", step=1e-4, elem_id="toy-lr-d")
            setting("d_steps", gr.Slider, **span("d_steps"), step=1, label="D steps per G step")
            setting("seed", gr.Number, precision=0, label="Seed")
            steps = gr.Slider(10, MAX_STEPS_PER_CALL, value=500, step=10, label="Steps per press (N)",
                              elem_id="toy-steps")
            with gr.Accordion("Networks and batch", open=False):
                setting("batch_size", gr.Slider, **span("batch_size"), step=16, label="Batch size")
                setting("latent_dim", gr.Slider, **span("latent_dim"), step=1, label="Noise size")
                setting("hidden", gr.Slider, **span("hidden"), step=8, label="Neurons per layer")
                setting("depth", gr.Slider, **span("depth"), step=1, label="Hidden layers")
            play_steps = gr.State(MAX_STEPS_PER_CALL)  # Play trains the most one call may
            with gr.Accordion("What the settings do", open=False):
                gr.Markdown(SETTINGS_HELP, latex_delimiters=LATEX)
        with gr.Column(scale=2, min_width=320):
            # the buttons right above the plane they move: both fit one screen in presenter mode at 1280 x 720
            with gr.Row(elem_classes=["gm-toy-actions"]):
                play_button = gr.Button("Play", variant="primary", size="sm", min_width=70, elem_id="toy-play")
                pause_button = gr.Button("Pause", size="sm", min_width=70, elem_id="toy-pause")
                train_button = gr.Button("Train N steps", size="sm", min_width=110, elem_id="toy-train")
                step_d_button = gr.Button("Step D", size="sm", min_width=70, elem_id="toy-step-d")
                step_g_button = gr.Button("Step G", size="sm", min_width=70, elem_id="toy-step-g")
                reset_button = gr.Button("Reset", size="sm", min_width=70, elem_id="toy-reset")
            # no panel label: Gradio would reserve 100 px over the figure's own title for it
            plane = gr.Plot(label="The plane", show_label=False, elem_id="toy-plane")
            stats = gr.Markdown("Press **Train N steps** to start this session's own run.", elem_id="toy-stats")
            manifold = gr.Plot(label="The generator's manifold", elem_id="toy-manifold")
            gr.Markdown(MANIFOLD_HELP, latex_delimiters=LATEX)
            curves = gr.Plot(label="Training curves", elem_id="toy-curves")
            with gr.Accordion("Raw numbers", open=False):
                numbers = gr.JSON(label="Latest snapshot", elem_id="toy-numbers")
                with gr.Row():
                    grid_lines = gr.Slider(**span("grid_lines"), value=toy2d.MESH_SIZE, step=1,
                                           label="Grid lines per side", elem_id="toy-grid-lines")
                    manifold_button = gr.Button("G on that grid, now", elem_id="toy-manifold-button")
                manifold_numbers = gr.JSON(label="G's manifold", elem_id="toy-manifold-numbers")

    def show_preset(name):
        """The preset's settings into their widgets (Custom changes nothing)."""
        if name == CUSTOM:
            return {widget: gr.skip() for widget in settings.values()}
        return {settings[field]: value for field, value in apply_preset(name).items()}

    outputs = [run_state, plane, curves, stats, numbers, manifold]
    preset.change(show_preset, preset, list(settings.values()), api_name="ui_toy_preset", api_visibility="private",
                  show_progress="hidden")
    # preprocess=False: the handlers get the values as sent and the request checks every one, since Gradio's Slider
    # and Number crash on text, lists or NaN from an API caller instead of saying what is wrong
    step_inputs = {"run": run_state, **settings, "steps": steps}
    train_button.click(toy_gan_step, [step_inputs[name] for name in STEP_ARGUMENTS], outputs, api_name="toy_gan_step",
                       concurrency_limit=4, show_progress="minimal", preprocess=False)
    # Play: the same training, as many steps as one call may, redrawn as it goes until Pause cancels it; the
    # run is the session's object, so what was trained stays trained
    play_inputs = step_inputs | {"steps": play_steps}
    playing = play_button.click(toy_gan_step, [play_inputs[name] for name in STEP_ARGUMENTS], outputs,
                                api_name="ui_toy_play", api_visibility="private", concurrency_limit=4,
                                show_progress="hidden", preprocess=False)
    pause_button.click(None, None, None, cancels=[playing], api_name="ui_toy_pause", api_visibility="private")
    # Step D and Step G: one handler, its part fixed by each button (a State, which the API does not ask for)
    for part, button in (("d", step_d_button), ("g", step_g_button)):
        update_inputs = {"run": run_state, "part": gr.State(part), **settings}
        button.click(toy_gan_update, [update_inputs[name] for name in UPDATE_ARGUMENTS], outputs,
                     api_name=f"toy_gan_step_{part}", concurrency_limit=4, show_progress="hidden", preprocess=False)
    # the preset box follows the settings: a preset's name when they match it (a restored link too), else Custom
    gr.on([widget.change for widget in settings.values()], by_name(preset_of, list(settings)),
          list(settings.values()), preset, api_name="ui_toy_preset_match", api_visibility="private",
          show_progress="hidden", trigger_mode="always_last")
    listen(reset_button.click, toy_gan_reset, settings, outputs, api_name="ui_toy_reset", api_visibility="private",
           preprocess=False)
    on_arrival(page, by_name(toy_gan_preview, list(settings)), settings, outputs[1:], "ui_toy_reset")
    manifold_button.click(gan_manifold, [run_state, grid_lines], manifold_numbers, api_name="gan_manifold",
                          preprocess=False)
    return {f"toy_{name}": control for name, control in (settings | {"steps": steps}).items()}
