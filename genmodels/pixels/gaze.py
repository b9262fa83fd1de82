"""Where the pixel transformer looks: its attention, when it predicts one pixel, over the pixels drawn before it."""
from dataclasses import dataclass

import torch

from genmodels.pixels.model import PIXELS, PixelTransformer
from genmodels.text.inside import recorded


@dataclass(frozen=True)
class Gaze:
    """The attention from the position that predicts one pixel, averaged over each block's heads."""
    maps: torch.Tensor  # (L, 28, 28) per block, on the pixels drawn before it; zero on the pixel and those after it
    class_share: torch.Tensor  # (L,) per block, the attention on the class token that starts the sequence
    probs: torch.Tensor  # (levels,) the model's distribution of the pixel


@torch.inference_mode()
def gaze(model: PixelTransformer, start: int, drawn: list[int], index: int) -> Gaze:
    """The gaze of `model` predicting pixel `index` (0-based, raster order) after class token `start` and the gray
    levels `drawn` of the pixels before it (the first `index` are read); tensors on the CPU."""
    idx = torch.tensor([[start, *drawn[:index]]], device=next(model.parameters()).device)  # (1, index + 1)
    with recorded(model.gpt) as record:
        logits = model(idx)  # (1, index + 1, levels)
    last = torch.stack([a[0, :, -1] for a in record.attention]).mean(1).cpu()  # (L, index + 1) heads averaged
    maps = torch.zeros(len(last), PIXELS)  # (L, 784)
    maps[:, :index] = last[:, 1:]  # key position j + 1 holds pixel j
    return Gaze(maps.view(-1, 28, 28), last[:, 0], logits[0, -1].float().softmax(-1).cpu())
