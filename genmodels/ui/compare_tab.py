"""The Compare tab: the seed's comparison table beside figures measured here, a race, quality against speed,
the training curves together, and a live re-measurement."""
from itertools import islice

import gradio as gr

from genmodels.checkpoint import read_log
from genmodels.data.fashion_mnist import CLASS_NAMES
from genmodels.runtime import timer
from genmodels.ui import compare_plots, images
from genmodels.ui.compare_api import FAMILY_NAMES, load_report, race_entries
from genmodels.ui.equations import add_equations
from genmodels.ui.hosting import RACE, on_gpu
from genmodels.ui.judge import verdict_captions
from genmodels.ui.outputs import picture
from genmodels.ui.share import add_copy_link

LOGS = {"text: GPT cross-entropy": ("assets/text/train_log.json", "train", "loss"),
        "pixels: cross-entropy": ("assets/pixels/train_log.json", "train", "loss"),
        "diffusion: noise-prediction MSE": ("assets/diffusion/train_log.json", "train", "loss"),
        "GAN: discriminator loss": ("assets/gan/healthy_train_log.json", "train", "d_loss"),
        "GAN: generator loss": ("assets/gan/healthy_train_log.json", "train", "g_loss")}
SEED_WORDS = {  # the seed document's comparison table, verbatim
    "Generation": ("Sequential (token by token)", "Iterative (many denoising steps)", "Single forward pass"),
    "Training": ("Stable (maximum likelihood)", "Stable (denoising score matching)", "Unstable (adversarial)"),
    "Quality": ("Excellent for text", "Excellent for images", "Excellent for images"),
    "Speed": ("Fast per token", "Slow (many steps)", "Fast"),
    "Diversity": ("High", "High", "Prone to mode collapse"),
}
INTRO = """
The three families side by side on the same data (Fashion-MNIST) and the same machine. The seed's table says what
each family is known for; the columns beside it say what we measured on the models in this repository with
`python -m genmodels.eval.report`. Quality is a Frechet distance between samples and real test images in the judge
classifier's feature space: it is **not** Inception FID, and it is only comparable to the floor printed with it
(two sets of real images).
"""


def spread(stability: dict) -> str:
    """The relative spread of each logged loss over the last fifth of training, in words."""
    return ", ".join(f"{name.replace('_', ' ')} ±{s['relative_spread']:.1%}" for name, s in stability.items())


def measured_table(report: dict) -> str:
    """The seed's words and our figures, one row per aspect, as a Markdown table."""
    pixels, gan, text = report["pixels"], report["gan"], report["text"]
    diffusion = {row["steps"]: row for row in report["diffusion"]}
    d50, fastest = diffusion.get(50, report["diffusion"][-1]), report["diffusion"][0]

    def quality(entry: dict) -> str:
        accuracy = f", {entry['class_accuracy']:.0%} drawn as the asked class" if "class_accuracy" in entry else ""
        return f"Frechet {entry['frechet_distance']:.1f}{accuracy}"

    def diversity(entry: dict) -> str:
        c = entry["coverage"]
        return (f"{c['classes_covered']}/10 classes, class entropy {c['entropy_bits']:.2f} bits, within-class "
                f"distance {entry['within_class_distance']:.2f}")

    ours = {
        "Generation": (f"{pixels['network_evaluations']} network evaluations per image, one per pixel",
                       f"{d50['network_evaluations']} evaluations at {d50['steps']} steps (2 per step with guidance)",
                       "1 evaluation per image"),
        "Training": (f"loss spread over the last fifth: {spread(pixels['stability'])}",
                     f"loss spread: {spread(d50['stability'])}", f"loss spread: {spread(gan['stability'])}"),
        "Quality": (f"{quality(pixels)}; {pixels['held_out_bits_per_pixel']:.3f} bits per pixel held out (text "
                    f"model: {text['bits_per_character']:.3f} bits per character)",
                    f"{quality(d50)} at {d50['steps']} steps, {fastest['frechet_distance']:.1f} at "
                    f"{fastest['steps']}", quality(gan) + " (it cannot be asked for a class)"),
        "Speed": (f"{pixels['seconds_per_sample']:.2f} s per image", f"{d50['seconds_per_sample']:.2f} s at "
                  f"{d50['steps']} steps, {fastest['seconds_per_sample']:.3f} s at {fastest['steps']}",
                  f"{gan['seconds_per_sample'] * 1000:.1f} ms per image"),
        "Diversity": (diversity(pixels), diversity(d50), diversity(gan)),
    }
    lines = ["| | Autoregressive: the seed / measured (pixels) | Diffusion: the seed / measured | "
             "GAN: the seed / measured |", "|---|---|---|---|"]
    for aspect, words in SEED_WORDS.items():
        cells = [f"*{w}*<br>{m}" for w, m in zip(words, ours[aspect])]
        lines.append(f"| **{aspect}** | " + " | ".join(cells) + " |")
    floor = report["frechet_floor_real_train_vs_real_test"]
    lines.append(f"\nMeasured on {report['date']} on {report['device_name']} ({report['device']}) with "
                 f"`{report['command']}`, {report['samples_per_class']} samples per class; the Frechet floor "
                 f"(real train vs real test images, same count) is {floor:.1f}.")
    return "\n".join(lines)


def training_curves() -> dict:
    """(steps, values) of every committed training log that exists."""
    curves = {}
    for name, (path, part, key) in LOGS.items():
        log = read_log(path)
        if log is not None:
            curves[name] = (log[part]["step"], log[part][key])
    return curves


def committed_views() -> tuple:
    """The table, the scatter and the curves from the committed report (a hint instead when it is missing)."""
    curves = compare_plots.training_curves_figure(training_curves())
    try:
        report = load_report()
    except gr.Error as err:
        return str(err), None, curves
    return measured_table(report), compare_plots.quality_speed_figure(report), curves


@on_gpu(RACE)
def on_race(label, diffusion_steps, seed):
    """Run one sample of each family in turn and show each as soon as it is done."""
    shown = [gr.skip()] * 3
    rows = ["| family | wall time | network evaluations | judge |", "|---|---|---|---|"]
    for slot, (family, image, seconds, evaluations, device) in enumerate(race_entries(label, diffusion_steps, seed)):
        verdict = verdict_captions(image)[0]
        shown[slot] = images.pictures(image)[0]
        rows.append(f"| {FAMILY_NAMES[family]} | {seconds * 1000:,.0f} ms | {evaluations} | {verdict} |")
        yield *shown, "\n".join(rows) + f"\n\nOn {device}, one after another so each has the whole machine."


def committed_seconds() -> dict:
    """Seconds per sample in the committed report by (family, network evaluations); empty without a report."""
    try:
        report = load_report()
    except gr.Error:
        return {}
    rows = [("gan", report["gan"]), ("pixels", report["pixels"])] + [("diffusion", r) for r in report["diffusion"]]
    return {(family, r["network_evaluations"]): r["seconds_per_sample"] for family, r in rows}


@on_gpu(RACE)
def on_remeasure(label):
    """Time one sample of each family now, on this server's device (under a minute on a CPU)."""
    with timer() as total:
        entries = list(race_entries(label, 20, 0)) + list(islice(race_entries(label, 50, 1), 2))[1:]
    committed = committed_seconds()
    rows = ["| family | this machine, now | committed report | network evaluations |", "|---|---|---|---|"]
    for family, _, seconds, evaluations, device in entries:
        before = committed.get((family, evaluations))
        name = FAMILY_NAMES[family] + (f", {evaluations // 2} steps" if family == "diffusion" else "")
        rows.append(f"| {name} | {seconds * 1000:,.0f} ms | "
                    f"{'' if before is None else f'{before * 1000:,.0f} ms'} | {evaluations} |")
    return "\n".join(rows) + f"\n\nMeasured just now on {device} in {total.seconds:.1f} s in all (one sample each)."


def build_compare_tab() -> dict:
    """Lay out the Compare tab and wire its events (call inside gr.Blocks); returns the controls a link shares."""
    gr.Markdown(INTRO)
    add_equations("compare")
    table, scatter, curves = committed_views()
    gr.Markdown(table, elem_id="compare-table")
    with gr.Row():
        label = gr.Dropdown(CLASS_NAMES, value="Sneaker", label="Class for the race", elem_id="race-class")
        steps = gr.Slider(1, 250, value=50, step=1, label="Diffusion steps in the race")
        seed = gr.Number(0, precision=0, label="Seed")
        race_button = gr.Button("Race: one sample from each family", variant="primary", elem_id="race-button")
        remeasure_button = gr.Button("Re-measure speed here", elem_id="remeasure-button")
    with gr.Row():
        pictures = [picture(name, elem_id=f"race-{family}")
                    for family, name in FAMILY_NAMES.items()]
    race_table = gr.Markdown(elem_id="race-table")
    shared = {"label": label, "steps": steps, "seed": seed}
    add_copy_link("compare", shared)
    remeasured = gr.Markdown(elem_id="remeasured")
    with gr.Row():
        gr.Plot(value=scatter, label="Quality against speed", elem_id="quality-speed-plot")
        gr.Plot(value=curves, label="Training curves", elem_id="compare-curves")
    race_button.click(on_race, [label, steps, seed], [*pictures, race_table], api_name="ui_race",
                      api_visibility="private", concurrency_limit=1)
    remeasure_button.click(on_remeasure, label, remeasured, api_name="ui_remeasure", api_visibility="private",
                           concurrency_limit=1)
    return shared
