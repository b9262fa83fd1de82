"""Train the text-prompted U-Net on Fashion-MNIST: `python -m genmodels.diffusion.train --preset gpu`.

Loss: the eps-prediction MSE "L_simple" (Ho et al. 2020, eq. 14) on the cosine schedule with T = 1000. Each image
gets a random caption of its class (captions.py), replaced by the empty prompt `caption_dropout` of the time, so
one network is both the conditional and the unconditional model (Ho & Salimans 2022). The U-Net and the text
encoder train jointly with AdamW; the exponential moving average of their weights is what gets saved, in fp16.
A timeline (genmodels.timeline) keeps, at a dozen steps, that average's DDIM images of one prompt per class from
fixed noise.
Presets: `gpu` makes the committed weights on one H200-class GPU in minutes, `cpu` runs on a 2-core machine in
under an hour, `tiny` trains for seconds on a few hundred images (tests use it).
"""
import copy
import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from tokenizers import Tokenizer
from torch import nn
from tqdm import tqdm

from genmodels.checkpoint import save_checkpoint
from genmodels.data.fashion_mnist import CLASS_NAMES, load_split, to_model_range, to_uint8
from genmodels.diffusion.captions import PHRASES, class_captions
from genmodels.diffusion.generate import start_noise
from genmodels.diffusion.pretrained import make_denoiser
from genmodels.diffusion.samplers import respaced_timesteps, sample_ddim
from genmodels.diffusion.schedule import NoiseSchedule, cosine_schedule, q_sample
from genmodels.diffusion.text_encoder import TextEncoder, TextEncoderConfig, encode_prompts, tokenize
from genmodels.diffusion.unet import UNet, UNetConfig
from genmodels.runtime import pick_device
from genmodels.text.tokenizer import load_tokenizer
from genmodels.timeline import SEED, Timeline, evaluating, snapshot_steps
from genmodels.training import TrainingClock, adamw, add_time_budget, autocast, image_training_arguments, warmup_cosine

T = 1000  # diffusion steps of the cosine schedule
TIMELINE_PROMPTS = [phrases[1] for phrases in PHRASES]  # one caption per class: "a t-shirt", ..., "an ankle boot"
TIMELINE_SAMPLING = {"sampler": "DDIM", "steps": 20, "guidance": 3.0}


@dataclass
class TrainPreset:
    unet: UNetConfig
    text: TextEncoderConfig
    batch_size: int = 256
    steps: int = 8000
    learning_rate: float = 1e-3
    min_learning_rate: float = 1e-4
    warmup_steps: int = 200
    weight_decay: float = 0.01
    ema_decay: float = 0.999
    caption_dropout: float = 0.15  # share of captions replaced by the empty (unconditional) prompt
    log_interval: int = 50  # the log holds the mean training loss of each interval
    train_images: int | None = None  # the first N training images; None: all 60,000
    out_dir: str = "assets/diffusion"


PRESETS = {  # gpu: a 4.9M-param U-Net; the 3.9M reference ran 40 steps/s at batch 256 (bf16): 8000 steps ~ 4 min
    "gpu": TrainPreset(UNetConfig(channels=(64, 128, 256), num_res_blocks=1, cond_dim=256),
                       TextEncoderConfig(n_layer=2, n_embd=128, cond_dim=256)),
    "cpu": TrainPreset(UNetConfig(channels=(32, 64, 128), num_res_blocks=1, cond_dim=128),
                       TextEncoderConfig(n_layer=2, n_embd=64, cond_dim=128), batch_size=64, steps=5000,
                       log_interval=25),  # 0.76-0.85 steps/s on one busy core; ~1.7 on an idle 2-core machine: ~50 min
    "tiny": TrainPreset(UNetConfig(channels=(16, 32, 32), num_res_blocks=1, n_head=2, cond_dim=32),
                        TextEncoderConfig(n_layer=1, n_head=2, n_embd=32, cond_dim=32), batch_size=32, steps=30,
                        learning_rate=3e-3, warmup_steps=5, log_interval=1, train_images=512,
                        out_dir="data/tiny-run/diffusion"),
}


@dataclass
class CaptionBank:
    """Every caption of every class, tokenized once: ids and mask (N, L); class k owns rows start[k]..+count[k]."""
    ids: torch.Tensor  # (N, L)
    mask: torch.Tensor  # (N, L)
    start: torch.Tensor  # (10,)
    count: torch.Tensor  # (10,)


def caption_bank(tokenizer: Tokenizer, max_tokens: int, device) -> CaptionBank:
    """Tokenize captions.class_captions of each class onto `device`."""
    captions = [class_captions(label) for label in range(len(CLASS_NAMES))]
    ids, mask = tokenize(tokenizer, [c for class_caps in captions for c in class_caps], max_tokens)
    count = torch.tensor([len(class_caps) for class_caps in captions])
    return CaptionBank(ids.to(device), mask.to(device), (count.cumsum(0) - count).to(device), count.to(device))


def draw_captions(bank: CaptionBank, labels: torch.Tensor, dropout: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Ids and mask (B, L) of a random caption of each label; a `dropout` share lose every token (the "" prompt)."""
    u = torch.rand(len(labels), device=labels.device)  # (B,)
    rows = bank.start[labels] + (u * bank.count[labels]).long().clamp(max=bank.count[labels] - 1)  # (B,)
    keep = torch.rand(len(labels), device=labels.device) >= dropout  # (B,)
    return bank.ids[rows], bank.mask[rows] & keep[:, None]


def timeline_images(ema: nn.ModuleDict, tokenizer: Tokenizer, schedule: NoiseSchedule, x_T: torch.Tensor) -> dict:
    """The averaged model's DDIM images of TIMELINE_PROMPTS from fixed noise x_T (N, 1, 28, 28): uint8 (N, 28, 28)."""
    with evaluating(ema):
        vectors = encode_prompts(ema["text_encoder"], tokenizer, TIMELINE_PROMPTS + [""], x_T.device)  # (N + 1, D)
        denoise = make_denoiser(ema["unet"], vectors[:-1], vectors[-1:], TIMELINE_SAMPLING["guidance"])
        images = sample_ddim(denoise, x_T, schedule, respaced_timesteps(T, TIMELINE_SAMPLING["steps"]))
    return {"images": to_uint8(images.float())}


@torch.no_grad()
def ema_update(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """ema <- decay * ema + (1 - decay) * model, tensor by tensor (Polyak averaging, as torch.optim.swa_utils does)."""
    torch._foreach_lerp_(list(ema.parameters()), list(model.parameters()), 1 - decay)


def train(preset_name: str, out_dir: Path, steps: int | None = None, data: tuple | None = None,
          data_dir: Path | None = None, tokenizer: Tokenizer | None = None, seed: int = 0,
          max_seconds: float | None = None) -> dict:
    """Train U-Net and text encoder; write unet, text_encoder (.safetensors/.json), tokenizer.json, train_log.json.

    data: (uint8 images (N, 28, 28), labels (N,)) to train on instead of Fashion-MNIST's train split."""
    preset = replace(PRESETS[preset_name], steps=PRESETS[preset_name].steps if steps is None else steps)
    if preset.unet.cond_dim != preset.text.cond_dim:
        raise ValueError(f"preset {preset_name}: the U-Net reads {preset.unet.cond_dim}-d text vectors, "
                         f"the text encoder makes {preset.text.cond_dim}-d ones")
    device = pick_device()
    torch.manual_seed(seed)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    images, labels = data if data is not None else load_split("train", data_dir)
    images, labels = images[:preset.train_images], labels[:preset.train_images]
    x_all, y_all = to_model_range(images).to(device), labels.to(device)  # (N, 1, 28, 28), (N,)
    tokenizer = tokenizer or load_tokenizer()
    text_config = replace(preset.text, vocab_size=tokenizer.get_vocab_size())
    bank = caption_bank(tokenizer, text_config.max_tokens, device)
    schedule = cosine_schedule(T)
    models = nn.ModuleDict({"unet": UNet(preset.unet), "text_encoder": TextEncoder(text_config)}).to(device)
    ema = copy.deepcopy(models).requires_grad_(False)
    optimizer = adamw(models, preset.learning_rate, preset.weight_decay)
    log = {"preset": preset_name, "device": str(device), "seed": seed,
           "params": {"unet": models["unet"].num_params(), "text_encoder": models["text_encoder"].num_params()},
           "unet_config": asdict(preset.unet), "text_config": asdict(text_config), "schedule": "cosine", "T": T,
           "train_images": len(x_all), "batch_size": preset.batch_size, "steps": preset.steps,
           "caption_dropout": preset.caption_dropout, "ema_decay": preset.ema_decay, "train": {"step": [], "loss": []}}
    start, clock = time.perf_counter(), TrainingClock(preset.steps, max_seconds)
    x_T = start_noise(SEED, len(TIMELINE_PROMPTS), device)  # (N, 1, 28, 28)
    timeline = Timeline(out_dir, snapshot_steps(preset.steps, preset.log_interval), clock,
                        lambda: timeline_images(ema, tokenizer, schedule, x_T),
                        {"family": "diffusion", "preset": preset_name, "loss_unit": "mean squared error of the noise",
                         "probe": {"prompts": TIMELINE_PROMPTS, "seed": SEED, "model": "EMA", **TIMELINE_SAMPLING}})
    timeline.record(0, log["train"])
    running = torch.zeros((), device=device)
    progress = tqdm(range(preset.steps), desc=f"diffusion[{preset_name}]", unit="step")
    for step in progress:
        lr = warmup_cosine(clock.schedule_step(step), preset.steps, preset.learning_rate, preset.min_learning_rate,
                           preset.warmup_steps)
        for group in optimizer.param_groups:
            group["lr"] = lr
        index = torch.randint(len(x_all), (preset.batch_size,), device=device)  # (B,)
        x0, y = x_all[index], y_all[index]  # (B, 1, 28, 28), (B,)
        flip = torch.rand(len(x0), 1, 1, 1, device=device) < 0.5
        x0 = torch.where(flip, x0.flip(-1), x0)  # random horizontal flips
        ids, mask = draw_captions(bank, y, preset.caption_dropout)  # (B, L) each
        t = torch.randint(T, (len(x0),), device=device)  # (B,)
        noise = torch.randn_like(x0)
        with autocast(device):
            eps = models["unet"](q_sample(schedule, x0, t, noise), t, models["text_encoder"](ids, mask))
        loss = F.mse_loss(eps.float(), noise)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(models.parameters(), 1.0)
        optimizer.step()
        ema_update(ema, models, min(preset.ema_decay, (1 + step) / (10 + step)))  # short warmup of the average
        running += loss.detach()
        last = clock.finished(step + 1)
        if (step + 1) % preset.log_interval == 0 or last:
            mean_loss = running.item() / ((step % preset.log_interval) + 1)
            running.zero_()
            log["train"]["step"].append(step + 1)
            log["train"]["loss"].append(round(mean_loss, 5))
            progress.set_postfix(loss=f"{mean_loss:.4f}")
        if timeline.due(step + 1, last):
            timeline.record(step + 1, log["train"])
        if last:
            break
    log["seconds"] = round(time.perf_counter() - start, 1)
    log["steps_done"] = step + 1
    log["steps_per_second"] = round((step + 1) / max(log["seconds"], 1e-9), 2)
    meta = {"preset": preset_name, "steps": step + 1, "schedule": "cosine", "T": T, "ema_decay": preset.ema_decay}
    save_checkpoint(ema["unet"], preset.unet, out_dir / "unet", meta=meta)
    save_checkpoint(ema["text_encoder"], text_config, out_dir / "text_encoder", meta=meta)
    tokenizer.save(str(out_dir / "tokenizer.json"))
    (out_dir / "train_log.json").write_text(json.dumps(log) + "\n")
    return log


def main() -> None:
    args = add_time_budget(image_training_arguments(__doc__, PRESETS)).parse_args()
    out_dir = args.out or Path(PRESETS[args.preset].out_dir)
    log = train(args.preset, out_dir, args.steps, data_dir=args.data_dir, max_seconds=args.max_seconds)
    print(json.dumps({k: log[k] for k in ("preset", "device", "params", "steps_done", "seconds", "steps_per_second")}
                     | {"final_loss": log["train"]["loss"][-1]}))


if __name__ == "__main__":
    main()
