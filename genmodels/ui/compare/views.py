"""The Compare tab's page handlers and tables: the seed's comparison beside measured figures, a race, a live
re-measurement."""
import gradio as gr

from genmodels.checkpoint import read_log
from genmodels.errors import RequestError
from genmodels.eval import requests as family
from genmodels.eval.training_cost import training_costs
from genmodels.paths import ASSETS
from genmodels.pixels.model import PIXELS
from genmodels.ui import images
from genmodels.ui.compare import plots
from genmodels.ui.hosting import RACE, on_gpu
from genmodels.ui.judge import verdict_captions

FAMILY_NAMES = {"gan": "GAN (one pass)", "diffusion": "Diffusion (denoising steps)",
                "pixels": "Autoregressive (pixel by pixel)"}
# The GAN was trained without labels: it cannot be asked for a class, so its picture is whatever its latent makes.
UNASKED_GAN = ("The diffusion and pixel models were asked for a {label}; the GAN cannot be asked for anything: it was "
               "trained without labels, so it draws whatever garment its random latent maps to.")
LOGS = {"text: GPT cross-entropy": (ASSETS / "text/train_log.json", "train", "loss"),
        "pixels: cross-entropy": (ASSETS / "pixels/train_log.json", "train", "loss"),
        "diffusion: noise-prediction MSE": (ASSETS / "diffusion/train_log.json", "train", "loss"),
        "GAN: discriminator loss": (ASSETS / "gan/healthy_train_log.json", "train", "d_loss"),
        "GAN: generator loss": (ASSETS / "gan/healthy_train_log.json", "train", "g_loss")}
SEED_WORDS = {  # the seed document's comparison table, verbatim
    "Generation": ("Sequential (token by token)", "Iterative (many denoising steps)", "Single forward pass"),
    "Training": ("Stable (maximum likelihood)", "Stable (denoising score matching)", "Unstable (adversarial)"),
    "Quality": ("Excellent for text", "Excellent for images", "Excellent for images"),
    "Speed": ("Fast per token", "Slow (many steps)", "Fast"),
    "Diversity": ("High", "High", "Prone to mode collapse"),
}


def spread(stability: dict) -> str:
    """The relative spread of each logged loss over the last fifth of training, in words."""
    return ", ".join(f"{name.replace('_', ' ')} ±{s['relative_spread']:.1%}" for name, s in stability.items())


def unguided(pixels: dict) -> str:
    """The pixel model's figures without guidance, where the report's are guided."""
    if "unguided" not in pixels:
        return ""
    plain = pixels["unguided"]
    return (f" at guidance {pixels['guidance']:g} (unguided: Frechet {plain['frechet_distance']:.1f}, "
            f"{plain['class_accuracy']:.0%})")


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
        "Generation": (f"{pixels['network_evaluations']} network evaluations per image, "
                       + ("one per pixel" if pixels["network_evaluations"] == PIXELS else
                          f"two per pixel with guidance {pixels['guidance']:g}"),
                       f"{d50['network_evaluations']} evaluations at {d50['steps']} steps (2 per step with guidance)",
                       "1 evaluation per image"),
        "Training": (f"loss spread over the last fifth: {spread(pixels['stability'])}",
                     f"loss spread: {spread(d50['stability'])}", f"loss spread: {spread(gan['stability'])}"),
        "Quality": (f"{quality(pixels)}{unguided(pixels)}; {pixels['held_out_bits_per_pixel']:.3f} bits per pixel "
                    f"held out (text "
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


def duration(seconds: float) -> str:
    """Wall time in minutes (or seconds under two minutes)."""
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def cost_table(report: dict, costs: dict) -> str:
    """Each committed model's training cost beside the quality it reached, as a Markdown table."""
    diffusion = {row["steps"]: row for row in report["diffusion"]}
    d50 = diffusion.get(50, report["diffusion"][-1])
    quality = {
        "pixels": f"Frechet {report['pixels']['frechet_distance']:.1f}, "
                  f"{report['pixels']['class_accuracy']:.0%} drawn as the asked class{unguided(report['pixels'])}",
        "diffusion": f"Frechet {d50['frechet_distance']:.1f}, {d50['class_accuracy']:.0%} drawn as the asked class "
                     f"({d50['steps']} steps)",
        "gan": f"Frechet {report['gan']['frechet_distance']:.1f} (cannot be asked for a class)",
        "text": f"{report['text']['bits_per_character']:.2f} bits per character on held-out lines",
    }
    lines = ["| model | parameters | training | examples seen | quality reached |", "|---|---|---|---|---|"]
    for family, cost in costs.items():
        lines.append(f"| {cost['model']} | {cost['parameters'] / 1e6:.2f} M | {cost['steps']:,} steps, "
                     f"{duration(cost['seconds'])} on the {cost['device'].upper()} | {cost['examples']:,} "
                     f"{cost['unit']} | {quality[family]} |")
    note = "\n\nRead from each model's training log (presets: " + ", ".join(
        sorted({cost["preset"] for cost in costs.values()})) + ")."
    if {"pixels", "diffusion"} <= set(costs):
        pixels, diffusion = costs["pixels"], costs["diffusion"]
        note += (f" A pixel image is 784 predictions in a row, so in {duration(pixels['seconds'])} the pixel model saw "
                 f"{pixels['examples'] / diffusion['examples']:.0%} as many images as the diffusion model did in "
                 f"{duration(diffusion['seconds'])}.")
    return "\n".join(lines) + note


def training_curves() -> dict:
    """(steps, values) of every committed training log that exists."""
    curves = {}
    for name, (path, part, key) in LOGS.items():
        log = read_log(path)
        if log is not None:
            curves[name] = (log[part]["step"], log[part][key])
    return curves


def committed_views() -> tuple:
    """The table, the training costs, the scatter and the curves from the committed report (a hint instead when it
    is missing)."""
    curves = plots.training_curves_figure(training_curves())
    try:
        report = family.load_report()
    except RequestError as err:
        return str(err), "", None, curves
    costs = cost_table(report, training_costs())
    return measured_table(report), costs, plots.quality_speed_figure(report), curves


@on_gpu(RACE)
def on_race(label, diffusion_steps, seed):
    """Run one sample of each family in turn and show each as soon as it is done."""
    request = family.RaceRequest.build(label=label, diffusion_steps=diffusion_steps, seed=seed)
    shown = [gr.skip()] * 3
    rows = ["| family | wall time | network evaluations | judge |", "|---|---|---|---|"]
    for slot, entry in enumerate(family.race_entries(request)):
        verdict = verdict_captions(entry.verdicts, 1)[0]
        shown[slot] = images.pictures(entry.image)[0]
        rows.append(f"| {FAMILY_NAMES[entry.family]} | {entry.seconds * 1000:,.0f} ms | {entry.network_evaluations} "
                    f"| {verdict} |")
        note = (f"On {entry.device}, one family at a time, so the three never compete with each other (other "
                "visitors' requests can still share the machine). ")
        yield *shown, "\n".join(rows) + "\n\n" + note + UNASKED_GAN.format(label=label)


@on_gpu(RACE)
def on_remeasure(label):
    """Time one sample of each family now, on this server's device (under a minute on a CPU)."""
    result = family.remeasure(label)
    rows = ["| family | this machine, now | committed report | network evaluations |", "|---|---|---|---|"]
    for entry, before in zip(result.entries, result.committed):
        evaluations = entry.network_evaluations
        name = FAMILY_NAMES[entry.family] + (f", {evaluations // 2} steps" if entry.family == "diffusion" else "")
        rows.append(f"| {name} | {entry.seconds * 1000:,.0f} ms | "
                    f"{'' if before is None else f'{before * 1000:,.0f} ms'} | {evaluations} |")
    return "\n".join(rows) + (f"\n\nMeasured just now on {result.entries[-1].device} in {result.seconds:.1f} s in "
                              "all (one sample each).")
