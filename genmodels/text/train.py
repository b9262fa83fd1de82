"""Train the byte-level BPE tokenizer and the GPT on Shakespeare: `python -m genmodels.text.train --preset gpu`.

Presets: `gpu` makes the committed weights on one H200-class GPU in minutes, `cpu` runs on a
2-core machine in under an hour, `tiny` trains for seconds (tests use it). The checkpoint with
the best validation loss is kept; the JSON log holds every train and validation loss. A timeline
(genmodels.timeline) keeps, at a dozen steps, the held-out bits per character and the model's
continuation of one fixed prompt.
"""
import argparse
import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from tokenizers import Tokenizer
from tqdm import tqdm

from genmodels.checkpoint import save_checkpoint
from genmodels.data.shakespeare import DATA_DIR, load_split
from genmodels.runtime import make_generator, pick_device
from genmodels.text.gpt import GPT, GPTConfig
from genmodels.text.sampling import sample_tokens
from genmodels.text.tokenizer import END_OF_TEXT, decode, encode, end_of_text_id, train_tokenizer
from genmodels.timeline import SEED, Timeline, bits_per_char, evaluating, snapshot_steps
from genmodels.training import TrainingClock, adamw, add_time_budget, autocast, warmup_cosine

TIMELINE_PROMPT = "KING.\nBring me the map, and let the council wait.\n\nQUEEN.\n"  # the app's first example prompt
TIMELINE_TEMPERATURE = 0.8
TIMELINE_CHARS = 200  # about this many characters of continuation per snapshot


@dataclass
class TrainPreset:
    model: GPTConfig
    vocab_size: int = 4096
    batch_size: int = 64
    steps: int = 6000
    learning_rate: float = 1e-3
    min_learning_rate: float = 1e-4
    warmup_steps: int = 200
    weight_decay: float = 0.1
    eval_interval: int = 250
    eval_windows: int = 512  # validation windows of block_size tokens per evaluation
    log_interval: int = 10  # the log holds one batch's training loss every this many steps
    out_dir: str = "assets/text"


PRESETS = {
    "gpu": TrainPreset(GPTConfig(block_size=256, n_layer=8, n_head=4, n_embd=256, dropout=0.2), steps=6000),
    "cpu": TrainPreset(GPTConfig(block_size=128, n_layer=4, n_head=4, n_embd=256, dropout=0.1),
                       batch_size=32, steps=3500, learning_rate=2e-3, eval_interval=250, eval_windows=128),
    "tiny": TrainPreset(GPTConfig(block_size=32, n_layer=2, n_head=2, n_embd=64), vocab_size=300, batch_size=16,
                        steps=60, learning_rate=3e-3, warmup_steps=5, eval_interval=20, eval_windows=16,
                        out_dir="data/tiny-run/text"),
}


def random_batch(tokens: torch.Tensor, block_size: int, batch_size: int, generator: torch.Generator):
    """Inputs and next-token targets (B, T) from random windows of the token stream."""
    starts = torch.randint(len(tokens) - block_size - 1, (batch_size,), generator=generator)
    x = torch.stack([tokens[s:s + block_size] for s in starts])
    y = torch.stack([tokens[s + 1:s + 1 + block_size] for s in starts])
    return x, y


def validation_windows(tokens: torch.Tensor, block_size: int, count: int):
    """Up to `count` evenly spread, non-overlapping (inputs, targets) windows of the validation stream."""
    total = (len(tokens) - 1) // block_size
    if total < 1:
        raise ValueError(f"the validation text has {len(tokens)} tokens; it needs more than {block_size}")
    picks = torch.linspace(0, total - 1, min(count, total)).long()
    x = torch.stack([tokens[i * block_size:(i + 1) * block_size] for i in picks])
    y = torch.stack([tokens[i * block_size + 1:(i + 1) * block_size + 1] for i in picks])
    return x, y


@torch.no_grad()
def validation_loss(model: GPT, windows, device, batch_size: int = 64) -> float:
    """Mean next-token cross-entropy (nats) over the validation windows."""
    model.eval()
    x_all, y_all = windows
    total = 0.0
    for i in range(0, len(x_all), batch_size):
        x, y = x_all[i:i + batch_size].to(device), y_all[i:i + batch_size].to(device)
        with autocast(device):
            logits = model(x)
        total += torch.nn.functional.cross_entropy(logits.float().flatten(0, 1), y.flatten(), reduction="sum").item()
    model.train()
    return total / y_all.numel()


def continuation(model: GPT, tokenizer: Tokenizer, prompt_ids: list[int], new_tokens: int) -> str:
    """The model's continuation of the prompt at the timeline's temperature, drawn the same way at every snapshot."""
    device = next(model.parameters()).device
    with evaluating(model):
        ids = sample_tokens(model, prompt_ids, new_tokens, temperature=TIMELINE_TEMPERATURE,
                            generator=make_generator(SEED, device))  # (1, new_tokens)
    return decode(tokenizer, ids[0].tolist())


def train(preset_name: str, data_dir: Path, out_dir: Path, steps: int | None = None, seed: int = 1337,
          max_seconds: float | None = None) -> dict:
    """Train tokenizer and model; write tokenizer.json, gpt.safetensors/.json and train_log.json to out_dir."""
    preset = replace(PRESETS[preset_name], steps=PRESETS[preset_name].steps if steps is None else steps)
    device = pick_device()
    torch.manual_seed(seed)
    train_text, val_text = load_split("train", data_dir), load_split("val", data_dir)
    tokenizer = train_tokenizer(train_text.split(END_OF_TEXT), preset.vocab_size)
    out_dir.mkdir(parents=True, exist_ok=True)
    partial = out_dir / "tokenizer.json.partial"  # then renamed: a trainer reading it meanwhile sees a whole file
    tokenizer.save(str(partial))
    partial.replace(out_dir / "tokenizer.json")
    train_tokens = torch.tensor(encode(tokenizer, train_text), dtype=torch.long)
    val_tokens = torch.tensor(encode(tokenizer, val_text), dtype=torch.long)
    config = GPTConfig(**{**asdict(preset.model), "vocab_size": tokenizer.get_vocab_size()})
    model = GPT(config).to(device)
    optimizer = adamw(model, preset.learning_rate, preset.weight_decay, betas=(0.9, 0.95))
    windows = validation_windows(val_tokens, config.block_size, preset.eval_windows)
    window_tokens = windows[1].numel()
    window_chars = sum(len(decode(tokenizer, row.tolist())) for row in windows[1])
    generator = torch.Generator().manual_seed(seed)
    log = {"preset": preset_name, "device": str(device), "params": model.num_params(), "config": asdict(config),
           "train_tokens": len(train_tokens), "val_tokens": len(val_tokens),
           "train": {"step": [], "loss": []}, "val": {"step": [], "loss": []}, "best_val_loss": float("inf")}
    start, steps = time.perf_counter(), preset.steps
    clock = TrainingClock(steps, max_seconds)
    prompt_ids = [end_of_text_id(tokenizer)] + encode(tokenizer, TIMELINE_PROMPT)
    new_tokens = round(TIMELINE_CHARS * window_tokens / window_chars)
    timeline = Timeline(out_dir, snapshot_steps(steps, preset.log_interval), clock,
                        lambda: {"text": continuation(model, tokenizer, prompt_ids, new_tokens)},
                        {"family": "text", "preset": preset_name, "loss_unit": "nats per token",
                         "val_bits_per_char_from": "val_loss x tokens / characters / ln 2 over the validation windows",
                         "probe": {"prompt": TIMELINE_PROMPT, "temperature": TIMELINE_TEMPERATURE, "seed": SEED,
                                   "new_tokens": new_tokens}})
    progress = tqdm(range(steps + 1), desc=f"gpt[{preset_name}]", unit="step")
    for step in progress:
        last = clock.finished(step)
        if step % preset.eval_interval == 0 or timeline.due(step, last):
            val_loss = validation_loss(model, windows, device)
            log["val"]["step"].append(step)
            log["val"]["loss"].append(round(val_loss, 4))
            if val_loss < log["best_val_loss"]:
                log.update(best_val_loss=round(val_loss, 4), best_step=step)
                save_checkpoint(model, config, out_dir / "gpt", meta={"step": step, "val_loss": round(val_loss, 4)})
            progress.set_postfix(val=f"{val_loss:.3f}")
        if timeline.due(step, last):
            timeline.record(step, log["train"], val_loss=round(val_loss, 4),
                            val_bits_per_char=round(bits_per_char(val_loss, window_tokens, window_chars), 4))
        if last:
            break
        lr = warmup_cosine(clock.schedule_step(step), steps, preset.learning_rate, preset.min_learning_rate,
                           preset.warmup_steps)
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y = random_batch(train_tokens, config.block_size, preset.batch_size, generator)
        with autocast(device):
            logits = model(x.to(device))
        loss = torch.nn.functional.cross_entropy(logits.float().flatten(0, 1), y.to(device).flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % preset.log_interval == 0:
            log["train"]["step"].append(step)
            log["train"]["loss"].append(round(loss.item(), 4))
    log["seconds"] = round(time.perf_counter() - start, 1)
    log["steps_done"] = step
    log["tokens_per_step"] = preset.batch_size * config.block_size
    (out_dir / "train_log.json").write_text(json.dumps(log) + "\n")
    return log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="gpu")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="folder with train.txt and val.txt")
    parser.add_argument("--out", type=Path, help="output folder (default: the preset's)")
    parser.add_argument("--steps", type=int, help="override the preset's step count")
    args = add_time_budget(parser).parse_args()
    out_dir = args.out or Path(PRESETS[args.preset].out_dir)
    log = train(args.preset, args.data_dir, out_dir, args.steps, max_seconds=args.max_seconds)
    print(json.dumps({k: log[k] for k in ("preset", "device", "params", "best_val_loss", "best_step", "steps_done",
                                          "seconds")}))


if __name__ == "__main__":
    main()
