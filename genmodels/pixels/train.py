"""Train the pixel transformer on Fashion-MNIST: `python -m genmodels.pixels.train --preset {gpu,cpu,tiny}`.

Each step draws a batch of training images, quantizes them to gray levels, prefixes each with its class token
(or, with probability `class_dropout`, the "any class" token, so the same model also draws unconditionally),
and minimizes the cross-entropy of every pixel given the ones before it. The loss is logged in bits per pixel;
every `eval_interval` steps the model is scored on held-out test images and the best weights are kept.
A timeline (genmodels.timeline) keeps, at a dozen steps, the held-out loss and one image of each class drawn
from fixed seeds.
Presets: `gpu` for one H200-class GPU (minutes), `cpu` for a 2-core machine (under an hour), `tiny` for tests.
"""
import json
import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from genmodels.checkpoint import save_checkpoint
from genmodels.data.fashion_mnist import load_split
from genmodels.pixels.model import N_CLASSES, PixelConfig, PixelTransformer, quantize, sequences
from genmodels.pixels.sample import sample_classes
from genmodels.runtime import pick_device
from genmodels.timeline import SEED, Timeline, evaluating, snapshot_steps
from genmodels.training import TrainingClock, adamw, add_time_budget, autocast, image_training_arguments, warmup_cosine

NATS_TO_BITS = 1 / math.log(2)
TIMELINE_LABELS = list(range(N_CLASSES))  # one image of each class per snapshot
TIMELINE_TEMPERATURE = 1.0


@dataclass
class TrainPreset:
    model: PixelConfig
    batch_size: int = 64
    steps: int = 4000
    learning_rate: float = 1e-3
    min_learning_rate: float = 1e-4
    warmup_steps: int = 200
    weight_decay: float = 0.1
    class_dropout: float = 0.1  # share of sequences that start with "any class"
    eval_interval: int = 250
    eval_images: int = 1000  # held-out test images scored at each evaluation
    log_interval: int = 10  # the log holds one batch's training loss every this many steps
    train_images: int | None = None  # the first N training images; None: all 60,000
    out_dir: str = "assets/pixels"


PRESETS = {
    "gpu": TrainPreset(PixelConfig(n_layer=6, n_head=8, n_embd=256, dropout=0.1), batch_size=64, steps=6000),
    "cpu": TrainPreset(PixelConfig(n_layer=6, n_head=4, n_embd=160), batch_size=16, steps=2800,
                       learning_rate=1.2e-3, warmup_steps=100, eval_interval=400, eval_images=200),
    "tiny": TrainPreset(PixelConfig(levels=4, n_layer=1, n_head=2, n_embd=32), batch_size=4, steps=6,
                        warmup_steps=2, eval_interval=3, eval_images=8, train_images=64,
                        out_dir="data/tiny-run/pixels"),
}


@torch.no_grad()
def bits_per_pixel(model: PixelTransformer, tokens: torch.Tensor, labels: torch.Tensor, device,
                   batch_size: int = 100) -> float:
    """Mean -log2 p(pixel | class, pixels before it) over images given as tokens (N, 784) and labels (N,)."""
    model.eval()
    total = 0.0
    for i in range(0, len(tokens), batch_size):
        x, y = sequences(tokens[i:i + batch_size], labels[i:i + batch_size], model.config)
        with autocast(device):
            logits = model(x.to(device))
        total += F.cross_entropy(logits.float().flatten(0, 1), y.to(device).flatten(), reduction="sum").item()
    model.train()
    return total / tokens.numel() * NATS_TO_BITS


def timeline_images(model: PixelTransformer) -> dict:
    """The images of TIMELINE_LABELS from the timeline's seed: uint8 (10, 28, 28)."""
    with evaluating(model):
        return {"images": sample_classes(model, TIMELINE_LABELS, SEED, TIMELINE_TEMPERATURE)}


def train(preset_name: str, out_dir: Path, steps: int | None = None, data_dir: Path | None = None,
          images: tuple[torch.Tensor, torch.Tensor] | None = None, seed: int = 0,
          max_seconds: float | None = None) -> dict:
    """Train and write pixel_transformer.safetensors/.json (best held-out weights) and train_log.json to out_dir.
    images: (uint8 (N, 28, 28), labels (N,)) to train and evaluate on instead of Fashion-MNIST."""
    preset = replace(PRESETS[preset_name], steps=steps or PRESETS[preset_name].steps)
    config, device = preset.model, pick_device()
    torch.manual_seed(seed)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
    train_images, train_labels = images if images is not None else load_split("train", data_dir)
    test_images, test_labels = images if images is not None else load_split("test", data_dir)
    tokens = quantize(train_images[:preset.train_images], config.levels)  # (N, 784)
    labels = train_labels[:preset.train_images].long()  # (N,)
    held_out = quantize(test_images[:preset.eval_images], config.levels), test_labels[:preset.eval_images].long()
    model = PixelTransformer(config).to(device)
    optimizer = adamw(model, preset.learning_rate, preset.weight_decay, betas=(0.9, 0.95))
    generator = torch.Generator().manual_seed(seed)
    log = {"preset": preset_name, "device": str(device), "params": model.num_params(), "config": asdict(config),
           "settings": {k: v for k, v in asdict(preset).items() if k != "model"}, "train_images": len(tokens),
           "unit": "bits per pixel", "train": {"step": [], "loss": []}, "val": {"step": [], "loss": []},
           "best_val_loss": float("inf")}
    start, clock = time.perf_counter(), TrainingClock(preset.steps, max_seconds)
    timeline = Timeline(out_dir, snapshot_steps(preset.steps, preset.log_interval), clock,
                        lambda: timeline_images(model),
                        {"family": "pixels", "preset": preset_name, "loss_unit": "bits per pixel",
                         "probe": {"labels": TIMELINE_LABELS, "seed": SEED, "temperature": TIMELINE_TEMPERATURE}})
    progress = tqdm(range(preset.steps + 1), desc=f"pixels[{preset_name}]", unit="step")
    for step in progress:
        last = clock.finished(step)
        if step % preset.eval_interval == 0 or timeline.due(step, last):
            val = bits_per_pixel(model, *held_out, device)
            log["val"]["step"].append(step)
            log["val"]["loss"].append(round(val, 4))
            if val < log["best_val_loss"]:
                log.update(best_val_loss=round(val, 4), best_step=step)
                save_checkpoint(model, config, out_dir / "pixel_transformer",
                                meta={"preset": preset_name, "step": step, "val_bits_per_pixel": round(val, 4)})
            progress.set_postfix(val=f"{val:.3f}")
            (out_dir / "train_log.json").write_text(json.dumps(log) + "\n")  # the log so far, for a look mid-run
        if timeline.due(step, last):
            timeline.record(step, log["train"], val_loss=round(val, 4))
        if last:
            break
        lr = warmup_cosine(clock.schedule_step(step), preset.steps, preset.learning_rate, preset.min_learning_rate,
                           preset.warmup_steps)
        for group in optimizer.param_groups:
            group["lr"] = lr
        rows = torch.randint(len(tokens), (preset.batch_size,), generator=generator)  # (B,)
        dropped = torch.rand(preset.batch_size, generator=generator) < preset.class_dropout  # (B,)
        x, y = sequences(tokens[rows], torch.where(dropped, -1, labels[rows]), config)  # (B, 784) each
        with autocast(device):
            logits = model(x.to(device))  # (B, 784, levels)
        loss = F.cross_entropy(logits.float().flatten(0, 1), y.to(device).flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % preset.log_interval == 0:
            log["train"]["step"].append(step)
            log["train"]["loss"].append(round(loss.item() * NATS_TO_BITS, 4))
    log["seconds"] = round(time.perf_counter() - start, 1)
    log["steps_done"] = step
    log["steps_per_second"] = round(step / max(log["seconds"], 1e-9), 2)
    (out_dir / "train_log.json").write_text(json.dumps(log) + "\n")
    return log


def main() -> None:
    args = add_time_budget(image_training_arguments(__doc__, PRESETS)).parse_args()
    out_dir = args.out or Path(PRESETS[args.preset].out_dir)
    log = train(args.preset, out_dir, args.steps, args.data_dir, max_seconds=args.max_seconds)
    print(json.dumps({k: log[k] for k in ("preset", "device", "params", "best_val_loss", "best_step", "steps_done",
                                          "seconds", "steps_per_second")}))


if __name__ == "__main__":
    main()
