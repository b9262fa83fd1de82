"""A family tab's training timeline: a slider through the committed model's training, showing at each snapshot the
loss so far (marked on the training curves) and what the model made then from fixed prompts, seeds and noise."""
import math
import time
from dataclasses import dataclass

import gradio as gr
import plotly.graph_objects as go

from genmodels import timeline_requests as timelines
from genmodels.checkpoint import read_log
from genmodels.paths import ASSETS
from genmodels.ui import images, plots
from genmodels.ui.hosting import answers
from genmodels.ui.outputs import picture
from genmodels.ui.wiring import listen

PLAY_SECONDS = 1.2  # per snapshot while playing: long enough to read the caption aloud


@dataclass(frozen=True)
class Chart:
    """How a family's training log is drawn: title, y axis, the loss's unit in a sentence, the held-out curve's name,
    the factor into that unit."""
    title: str
    y_title: str
    unit: str
    val_name: str = "held-out"
    scale: float = 1.0


CHARTS = {
    # in bits, as every other view of the text tab measures surprisal (the log, like PyTorch, is in nats)
    "text": Chart("GPT training on Shakespeare", "cross-entropy (bits / token)", "bits per token", "held-out plays",
                  1 / math.log(2)),
    "pixels": Chart("Pixel transformer training on Fashion-MNIST", "cross-entropy (bits / pixel)", "bits per pixel",
                    "held-out images"),
    "diffusion": Chart("U-Net training on Fashion-MNIST", "noise-prediction MSE", "mean squared error of the noise"),
}
MADE = {"text": "The model's continuation of the same prompt at this snapshot (temperature {temperature}, seed {seed})",
        "pixels": "One image of each class at this snapshot (seed {seed}, temperature {temperature})",
        "diffusion": "The same noise and ten prompts at this snapshot ({steps} {sampler} steps, guidance {guidance})"}


def training_chart(family: str, log: dict | None, step: int | None = None) -> go.Figure | None:
    """The committed training curves, with `step` marked; None without a log."""
    if log is None:
        return None
    chart = CHARTS[family]
    figure = plots.loss_curves_figure(log, chart.title, y_title=chart.y_title, val_name=chart.val_name,
                                      scale=chart.scale)
    if step is not None:
        figure.add_vline(x=step, line=dict(color=plots.BLACK, dash="dot"))
    return figure


def caption(result: timelines.TimelineResult) -> str:
    """Where the snapshot is in training and what it measured, in one line."""
    parts = [f"**Snapshot {result.snapshot} of {result.snapshots}: step {result.step:,} of {result.total_steps:,}**, "
             f"{result.seconds / 60:.1f} min into training"]
    if result.train_loss is not None:
        train = result.train_loss * CHARTS[result.family].scale
        parts.append(f"training loss {train:.3f} {CHARTS[result.family].unit}")
    if result.held_out is not None:
        parts.append(f"held-out **{result.held_out:.3f} {result.held_out_unit}**")
    return "; ".join(parts) + "."


def made_view(result: timelines.TimelineResult):
    """The snapshot's images as one labelled row, or its text."""
    if result.images is None:
        return result.probe["prompt"] + result.text
    tiles = [images.upscale(image, 3) for image in result.images]
    return images.grid(tiles, columns=5, labels=[name[:14] for name in result.probe_names])


@answers
def on_timeline(family: str, snapshot: int) -> tuple:
    """What the model made at the snapshot, the curves with its step marked, and the caption."""
    result = timelines.timeline_snapshot(timelines.TimelineRequest.build(family=family, snapshot=snapshot))
    return made_view(result), training_chart(family, result.train_log, result.step), caption(result)


@answers
def on_play(family: str):
    """The slider through every snapshot in turn, from the first; its change event draws each one."""
    for snapshot in range(1, len(timelines.recorded_timeline(family).content["snapshots"]) + 1):
        yield snapshot
        time.sleep(PLAY_SECONDS)


def add_timeline(family: str) -> dict:
    """The training curves and, when the committed model recorded a timeline, its slider, Play button and views;
    returns the controls a link shares ({"timeline": slider}, or {} without a timeline)."""
    recorded = timelines.load_timeline(family)
    if recorded is None:
        gr.Plot(value=training_chart(family, read_log(ASSETS / family / "train_log.json")), label="Training loss")
        return {}
    count = len(recorded.content["snapshots"])
    name = gr.State(family)
    gr.Markdown("Drag the slider through training, or press Play: what the model made at each snapshot, from the "
                "same prompts, seeds and noise every time.")
    with gr.Row(equal_height=True):
        slider = gr.Slider(1, count, value=count, step=1, label="Training snapshot", elem_id=f"{family}-timeline",
                           scale=4)
        play = gr.Button("Play through training", elem_id=f"{family}-timeline-play", scale=1, min_width=160)
    # the last snapshot is drawn into the page as it is built: on arrival without an event, which a link's own
    # snapshot (restored with a change event) could otherwise race
    first_made, first_figure, first_caption = on_timeline(family, count)
    note = gr.Markdown(first_caption, elem_id=f"{family}-timeline-caption")
    label = MADE[family].format(**recorded.content["probe"])
    if recorded.sprite is None:
        made = gr.Textbox(first_made, label=label, lines=6, interactive=False, elem_id=f"{family}-timeline-made")
    else:
        made = picture(label, value=first_made, elem_id=f"{family}-timeline-made")
    figure = gr.Plot(first_figure, label="Training loss, the snapshot's step marked", elem_id=f"{family}-timeline-plot")
    views = [made, figure, note]
    listen(slider.change, on_timeline, {"family": name, "snapshot": slider}, views,
           api_name=f"ui_{family}_timeline", api_visibility="private", trigger_mode="always_last",
           show_progress="hidden")
    listen(play.click, on_play, {"family": name}, slider, api_name=f"ui_{family}_timeline_play",
           api_visibility="private", show_progress="hidden")
    return {"timeline": slider}
