"""Real Fashion-MNIST test images shipped in assets/, so the app can show real data without the dataset.

`python -m genmodels.data.examples` writes two grayscale PNGs:
- assets/examples/fashion-mnist.png: the first test image of each class, side by side in class order (28 x 280);
- assets/examples/fashion-mnist-test-512.png: the first 512 test images, stacked top to bottom (14336 x 28),
  the real side of the GAN discriminator's histograms.
"""
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from genmodels.checkpoint import CheckpointError
from genmodels.data.fashion_mnist import CLASS_NAMES, load_split
from genmodels.paths import ASSETS, shown

EXAMPLES_PATH = ASSETS / "examples" / "fashion-mnist.png"
REAL_PATH = ASSETS / "examples" / "fashion-mnist-test-512.png"
REAL_COUNT = 512
REMAKE = "python -m genmodels.data.examples"


def read_png(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """A shipped grayscale PNG of `shape` (H, W) as a uint8 array; a missing, unreadable or misshapen file names
    the command that re-creates it."""
    if not Path(path).exists():
        raise FileNotFoundError(f"{shown(path)} is missing; re-create it with `{REMAKE}`")
    try:
        array = np.asarray(Image.open(path).convert("L"))
    except (OSError, ValueError) as err:
        raise CheckpointError(f"{shown(path)} is unreadable ({type(err).__name__}); "
                              f"re-create it with `{REMAKE}`") from None
    if array.shape != shape:
        raise CheckpointError(f"{shown(path)} is {array.shape[1]} x {array.shape[0]} pixels, "
                              f"not {shape[1]} x {shape[0]}; re-create it with `{REMAKE}`")
    return array


def load_examples(path: Path = EXAMPLES_PATH) -> torch.Tensor:
    """The shipped examples as uint8 (10, 28, 28), one per class in CLASS_NAMES order."""
    strip = read_png(path, (28, 28 * len(CLASS_NAMES)))  # (28, 280)
    return torch.from_numpy(strip.copy()).view(28, len(CLASS_NAMES), 28).permute(1, 0, 2).contiguous()


def load_real_images(path: Path = REAL_PATH) -> torch.Tensor:
    """The first 512 Fashion-MNIST test images as uint8 (512, 28, 28)."""
    return torch.from_numpy(read_png(path, (28 * REAL_COUNT, 28)).copy()).view(-1, 28, 28)


def main() -> None:
    images, labels = load_split("test")
    picks = [int((labels == k).nonzero()[0]) for k in range(len(CLASS_NAMES))]
    EXAMPLES_PATH.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(images[picks].permute(1, 0, 2).reshape(28, -1).numpy(), mode="L").save(EXAMPLES_PATH)
    Image.fromarray(images[:REAL_COUNT].reshape(-1, 28).numpy(), mode="L").save(REAL_PATH)
    print(f"{EXAMPLES_PATH}: test images {picks}, one per class; {REAL_PATH}: the first {REAL_COUNT} test images")


if __name__ == "__main__":
    main()
