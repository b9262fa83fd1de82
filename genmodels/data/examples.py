"""A few real Fashion-MNIST test images shipped in assets/, so the app can show real data without the dataset.

`python -m genmodels.data.examples` writes assets/examples/fashion-mnist.png: the first test image of each
class, side by side in class order (28 x 280 pixels, grayscale).
"""
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from genmodels.data.fashion_mnist import CLASS_NAMES, load_split

EXAMPLES_PATH = Path("assets/examples/fashion-mnist.png")
REMAKE = "python -m genmodels.data.examples"


def load_examples(path: Path = EXAMPLES_PATH) -> torch.Tensor:
    """The shipped examples as uint8 (10, 28, 28), one per class in CLASS_NAMES order."""
    if not Path(path).exists():
        raise FileNotFoundError(f"{path} is missing; re-create it with `{REMAKE}`")
    strip = np.asarray(Image.open(path).convert("L"))  # (28, 280)
    return torch.from_numpy(strip.copy()).view(28, len(CLASS_NAMES), 28).permute(1, 0, 2).contiguous()


def main() -> None:
    images, labels = load_split("test")
    picks = [int((labels == k).nonzero()[0]) for k in range(len(CLASS_NAMES))]
    strip = images[picks].permute(1, 0, 2).reshape(28, -1).numpy()  # (28, 280)
    EXAMPLES_PATH.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(strip, mode="L").save(EXAMPLES_PATH)
    print(f"{EXAMPLES_PATH}: test images {picks}, one per class")


if __name__ == "__main__":
    main()
