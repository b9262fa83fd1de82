"""A small CNN that judges Fashion-MNIST images: `python -m genmodels.eval.classifier --preset cpu`.

It takes (B, 1, 28, 28) images in [-1, 1], the range every generator here outputs, and gives class logits;
`features` is its penultimate layer, the embedding for a Frechet distance between real and generated images.
Presets: `cpu` makes the committed weights (assets/eval) on 2 cores in minutes, `gpu` trains the same model
longer with bf16 autocast, `tiny` trains for seconds on a few hundred images (tests use it).
"""
import argparse
import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from genmodels.checkpoint import load_checkpoint, loaded_once, save_checkpoint
from genmodels.data.fashion_mnist import CLASS_NAMES, load_split, to_model_range
from genmodels.paths import ASSETS
from genmodels.runtime import make_generator, pick_device
from genmodels.training import adamw, autocast

ASSET_STEM = ASSETS / "eval" / "classifier"
REMAKE = "python -m genmodels.eval.classifier --preset cpu"


@dataclass
class ClassifierConfig:
    channels: tuple[int, int, int] = (32, 64, 128)  # at 28x28, 14x14 and 7x7
    feature_dim: int = 128  # D, the penultimate embedding
    dropout: float = 0.3
    n_classes: int = 10


def conv_bn(c_in: int, c_out: int) -> nn.Sequential:
    """3x3 convolution, batch norm, ReLU; keeps the spatial size."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


class FashionClassifier(nn.Module):
    """conv(c1) pool conv(c2) conv(c2) pool conv(c3) -> linear(D) -> linear(10)."""

    def __init__(self, config: ClassifierConfig):
        super().__init__()
        self.config = config
        c1, c2, c3 = config.channels
        self.body = nn.Sequential(conv_bn(1, c1), nn.MaxPool2d(2), conv_bn(c1, c2), conv_bn(c2, c2), nn.MaxPool2d(2),
                                  conv_bn(c2, c3))
        self.embed = nn.Sequential(nn.Flatten(), nn.Dropout(config.dropout), nn.Linear(c3 * 7 * 7, config.feature_dim,
                                   bias=False), nn.BatchNorm1d(config.feature_dim), nn.ReLU())
        self.head = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(config.feature_dim, config.n_classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate embedding (B, D) of images (B, 1, 28, 28) in [-1, 1]."""
        h = self.body(x.contiguous(memory_format=torch.channels_last))  # (B, c3, 7, 7)
        return self.embed(h)  # (B, D)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))  # (B, 10)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


@torch.inference_mode()
def _in_batches(model: FashionClassifier, fn, images: torch.Tensor, batch_size: int) -> torch.Tensor:
    """fn (the model or its `features`) in eval mode on images as predict_logits takes them; float32 on the CPU."""
    if images.dtype == torch.uint8:
        images = to_model_range(images)
    device = next(model.parameters()).device
    model.eval()
    return torch.cat([fn(images[i:i + batch_size].to(device).float()).float().cpu()
                      for i in range(0, len(images), batch_size)])


def predict_logits(model: FashionClassifier, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Logits (N, 10) on the CPU for images (N, 1, 28, 28) in [-1, 1], or uint8 (N, 28, 28), in batches."""
    return _in_batches(model, model, images, batch_size)


def predict_features(model: FashionClassifier, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Penultimate features (N, D) on the CPU for images (N, 1, 28, 28) in [-1, 1], or uint8 (N, 28, 28)."""
    return _in_batches(model, model.features, images, batch_size)


def accuracy(model: FashionClassifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of images whose argmax class is the label."""
    return (predict_logits(model, images).argmax(1) == labels.cpu()).float().mean().item()


def per_class_accuracy(model: FashionClassifier, images: torch.Tensor, labels: torch.Tensor) -> list[float]:
    """Accuracy on the images of each class, in CLASS_NAMES order (nan for a class with no images)."""
    correct = (predict_logits(model, images).argmax(1) == labels.cpu()).float()
    return [correct[labels.cpu() == k].mean().item() for k in range(len(CLASS_NAMES))]


@loaded_once
def _load(stem: Path, device: str) -> FashionClassifier:
    model, _ = load_checkpoint(FashionClassifier, ClassifierConfig, stem, REMAKE, device=device)
    return model.to(memory_format=torch.channels_last)


def load_classifier(device: torch.device | str | None = None, stem: Path | str = ASSET_STEM) -> FashionClassifier:
    """The committed classifier from assets/eval, loaded once per process and device, in eval mode."""
    return _load(Path(stem), str(device or pick_device()))


def classify(images: torch.Tensor, model: FashionClassifier | None = None) -> torch.Tensor:
    """Class probabilities (B, 10) of images (B, 1, 28, 28) in [-1, 1] (or uint8 (B, 28, 28)), by default judge."""
    return predict_logits(model if model is not None else load_classifier(), images).softmax(-1)


@dataclass
class TrainPreset:
    model: ClassifierConfig
    epochs: int = 8
    batch_size: int = 128
    learning_rate: float = 3e-3  # OneCycle peak
    weight_decay: float = 0.05
    max_shift: int = 2  # augmentation: random shifts of up to this many pixels, and horizontal flips
    train_images: int | None = None  # None: all 60,000
    test_images: int | None = None  # None: all 10,000
    log_interval: int = 20  # steps per logged (mean) train loss
    out_dir: str = "assets/eval"


PRESETS = {
    "gpu": TrainPreset(ClassifierConfig(), epochs=30, batch_size=256, learning_rate=4e-3),
    "cpu": TrainPreset(ClassifierConfig()),
    "tiny": TrainPreset(ClassifierConfig(channels=(8, 16, 16), feature_dim=32), epochs=6, batch_size=32,
                        learning_rate=1e-2, train_images=384, test_images=256, log_interval=2,
                        out_dir="data/tiny-run/eval"),
}


def augment(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Flip half the images left-right and shift each by up to max_shift pixels, filling with background (-1)."""
    B, _, H, W = x.shape
    flip = torch.rand(B, generator=generator, device=x.device) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    if max_shift == 0:
        return x
    padded = F.pad(x, (max_shift,) * 4, value=-1.0)  # (B, 1, H + 2s, W + 2s)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, B, 1), generator=generator, device=x.device)
    rows, cols = dy + torch.arange(H, device=x.device), dx + torch.arange(W, device=x.device)  # (B, H), (B, W)
    batch = torch.arange(B, device=x.device)[:, None, None]
    return padded[batch, 0, rows[:, :, None], cols[:, None, :]].unsqueeze(1)  # (B, 1, H, W)


def load_data(split: str, count: int | None, data_dir: Path | None, device: torch.device):
    """The first `count` images (N, 1, 28, 28) in [-1, 1] and labels (N,) of a split, on `device`."""
    images, labels = load_split(split, data_dir)
    return to_model_range(images[:count]).to(device), labels[:count].to(device)


def train(preset_name: str, out_dir: Path, data_dir: Path | None = None, epochs: int | None = None,
          seed: int = 0) -> dict:
    """Train the classifier; write classifier.safetensors/.json and classifier_log.json to out_dir."""
    preset = PRESETS[preset_name]
    preset = replace(preset, epochs=preset.epochs if epochs is None else epochs)
    device = pick_device()
    torch.manual_seed(seed)
    generator = make_generator(seed, device)
    x_train, y_train = load_data("train", preset.train_images, data_dir, device)
    x_test, y_test = load_data("test", preset.test_images, data_dir, device)
    model = FashionClassifier(preset.model).to(device, memory_format=torch.channels_last)
    optimizer = adamw(model, preset.learning_rate, preset.weight_decay)
    steps_per_epoch = len(x_train) // preset.batch_size
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, preset.learning_rate, pct_start=0.25,
                                                   total_steps=max(1, preset.epochs * steps_per_epoch))
    log = {"preset": preset_name, "device": str(device), "params": model.num_params(), "config": asdict(preset.model),
           "train_images": len(x_train), "test_images": len(x_test), "classes": CLASS_NAMES,
           "train": {"step": [], "loss": []}, "test": {"epoch": [], "accuracy": []}}
    start = time.perf_counter()
    step, running = 0, []
    progress = tqdm(total=preset.epochs * steps_per_epoch, desc=f"classifier[{preset_name}]", unit="step")
    for epoch in range(1, preset.epochs + 1):
        model.train()
        order = torch.randperm(len(x_train), generator=generator, device=device)
        for i in range(steps_per_epoch):
            idx = order[i * preset.batch_size:(i + 1) * preset.batch_size]
            x = augment(x_train[idx], preset.max_shift, generator)  # (B, 1, 28, 28)
            with autocast(device):
                logits = model(x)  # (B, 10)
            loss = F.cross_entropy(logits.float(), y_train[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            running.append(loss.item())
            step += 1
            if step % preset.log_interval == 0:
                log["train"]["step"].append(step)
                log["train"]["loss"].append(round(sum(running) / len(running), 4))
                progress.set_postfix(loss=f"{log['train']['loss'][-1]:.3f}")
                running = []
            progress.update()
        log["test"]["epoch"].append(epoch)
        log["test"]["accuracy"].append(round(accuracy(model, x_test, y_test), 4))
        progress.set_postfix(loss=f"{loss.item():.3f}", test=f"{log['test']['accuracy'][-1]:.2%}")
    progress.close()
    log["seconds"] = round(time.perf_counter() - start, 1)
    log["test_accuracy_fp32"] = round(accuracy(model, x_test, y_test), 4)
    log.update(save_judged(model, out_dir / "classifier", x_test, y_test, log))
    (out_dir / "classifier_log.json").write_text(json.dumps(log) + "\n")
    return log


def save_judged(model: FashionClassifier, stem: Path, x_test, y_test, log: dict) -> dict:
    """Save fp16 weights if their test accuracy is within 0.1 point of fp32's, else fp32; return what was saved."""
    for half in (True, False):
        meta = {"preset": log["preset"], "test_accuracy_fp32": log["test_accuracy_fp32"]}
        save_checkpoint(model, model.config, stem, half=half, meta=meta)
        saved, _ = load_checkpoint(FashionClassifier, ClassifierConfig, stem, REMAKE, device=x_test.device)
        saved_accuracy = round(accuracy(saved, x_test, y_test), 4)
        if abs(saved_accuracy - log["test_accuracy_fp32"]) <= 0.001 or not half:
            break
    per_class = [round(a, 4) for a in per_class_accuracy(saved, x_test, y_test)]
    meta.update(weights_dtype="float16" if half else "float32", test_accuracy=saved_accuracy,
                per_class_accuracy=per_class)
    save_checkpoint(model, model.config, stem, half=half, meta=meta)
    return {k: meta[k] for k in ("weights_dtype", "test_accuracy", "per_class_accuracy")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="cpu")
    parser.add_argument("--data-dir", type=Path, help="folder with the Fashion-MNIST IDX files (default: found)")
    parser.add_argument("--out", type=Path, help="output folder (default: the preset's)")
    parser.add_argument("--epochs", type=int, help="override the preset's epoch count")
    args = parser.parse_args()
    log = train(args.preset, args.out or Path(PRESETS[args.preset].out_dir), args.data_dir, args.epochs)
    keys = ("preset", "device", "params", "test_accuracy", "weights_dtype", "per_class_accuracy", "seconds")
    print(json.dumps({k: log[k] for k in keys}))


if __name__ == "__main__":
    main()
