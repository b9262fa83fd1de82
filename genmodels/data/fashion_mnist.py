"""Fashion-MNIST (Xiao et al. 2017): 70,000 grayscale 28x28 clothing images in 10 classes.

Read from the raw IDX files of the Debian package `dataset-fashion-mnist` (/usr/share/datasets/fashion-mnist),
else from torchvision's download into data/fashion-mnist (git-ignored). Run `python -m genmodels.data.fashion_mnist`
to fetch it when missing and print where it is and the split sizes.
"""
import argparse
import gzip
import math
import struct
from pathlib import Path

import numpy as np
import torch

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
CACHE_DIR = Path("data/fashion-mnist")
TORCHVISION_RAW = CACHE_DIR / "FashionMNIST" / "raw"  # where torchvision.datasets.FashionMNIST(CACHE_DIR) puts them
FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
FETCH_HINT = "install it with `apt-get install dataset-fashion-mnist` or run `python -m genmodels.data.fashion_mnist`"


def read_idx(path: Path) -> np.ndarray:
    """Parse an unsigned-byte IDX file (LeCun's MNIST format: 0, 0, 0x08, ndim, big-endian dims, data), gz or plain."""
    path = Path(path)
    with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[:3] != b"\x00\x00\x08":
        raise ValueError(f"{path} is not an unsigned-byte IDX file")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path} ends inside its IDX header")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    if len(data) - header != math.prod(dims):
        raise ValueError(f"{path} holds {len(data) - header} bytes, its header promises {math.prod(dims)}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims).copy()


def idx_file(folder: Path, name: str) -> Path | None:
    """folder/name, else folder/name.gz, else None."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def find_data_dir() -> Path | None:
    """The first of the Debian folder and torchvision's cache that holds all four IDX files, else None."""
    for folder in (DEBIAN_DIR, TORCHVISION_RAW):
        if all(idx_file(folder, name) for names in FILES.values() for name in names):
            return folder
    return None


def load_split(split: str, data_dir: Path | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ('train' | 'test') images uint8 (N, 28, 28) and labels int64 (N,) from data_dir or the default places."""
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    folder = Path(data_dir) if data_dir is not None else find_data_dir()
    paths = [idx_file(folder, name) for name in FILES[split]] if folder is not None else [None]
    if None in paths:
        where = folder if folder is not None else f"{DEBIAN_DIR} or {TORCHVISION_RAW}"
        raise FileNotFoundError(f"Fashion-MNIST {split} files are missing from {where}; {FETCH_HINT}")
    images, labels = (read_idx(path) for path in paths)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != images.shape[:1] or labels.max() > 9:
        raise ValueError(f"{folder}: images {images.shape} and labels {labels.shape} are not Fashion-MNIST")
    return torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))


def to_model_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) in [0, 255] -> float32 (N, 1, 28, 28) in [-1, 1]: x = u / 127.5 - 1."""
    return (images.float() / 127.5 - 1).unsqueeze(1)


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """Inverse of to_model_range: float (N, 1, 28, 28), clamped to [-1, 1] -> uint8 (N, 28, 28)."""
    return ((x.squeeze(1).clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def download(root: Path = CACHE_DIR) -> Path:
    """Fetch the four IDX files with torchvision into root/FashionMNIST/raw; return that folder."""
    from torchvision.datasets import FashionMNIST

    FashionMNIST(str(root), train=True, download=True)
    return Path(root) / "FashionMNIST" / "raw"


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    folder = find_data_dir() or download()
    sizes = {split: len(load_split(split, folder)[1]) for split in FILES}
    print(f"Fashion-MNIST in {folder}: " + ", ".join(f"{split} {n:,} images" for split, n in sizes.items()))


if __name__ == "__main__":
    main()
