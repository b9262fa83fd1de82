"""A class-conditional transformer over quantized pixels in raster order: the text GPT with a pixel vocabulary.

Each 28x28 image becomes 784 tokens, its gray levels quantized to `levels` values and read row by row. The
sequence starts with a class token (or the "any class" token), so the model learns
p(image | class) = prod_i p(pixel_i | class, pixels before i). Token ids: 0 .. levels - 1 are gray levels,
levels + c is class c, levels + 10 is "any class". The network is genmodels.text.gpt.GPT unchanged (rotary
positions, KV cache); only the gray-level logits are returned, so the text family's samplers run on it as is.
The class also reaches every position directly: the first token's class embedding is added to every token's
embedding (a KV cache keeps it), so the class is not one distant token the model could learn to ignore.
"""
from dataclasses import dataclass

import torch
from torch import nn

from genmodels.text.gpt import GPT, GPTConfig

N_CLASSES = 10
PIXELS = 28 * 28


@dataclass
class PixelConfig:
    levels: int = 8  # gray levels per pixel
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    block_size: int = PIXELS  # the class token and 783 pixels in, 784 pixel predictions out
    rope_base: float = 10000.0

    def gpt_config(self) -> GPTConfig:
        return GPTConfig(vocab_size=self.levels + N_CLASSES + 1, block_size=self.block_size, n_layer=self.n_layer,
                         n_head=self.n_head, n_embd=self.n_embd, dropout=self.dropout, rope_base=self.rope_base)


class PixelTransformer(nn.Module):
    """Logits over gray levels (B, T, levels) for token ids (B, T); takes the text GPT's KVCache."""

    def __init__(self, config: PixelConfig):
        super().__init__()
        self.config = config
        self.gpt = GPT(config.gpt_config())
        self.class_embedding = nn.Embedding(N_CLASSES + 1, config.n_embd)  # the 10 classes and "any class"
        nn.init.normal_(self.class_embedding.weight, std=0.02)

    def forward(self, idx: torch.Tensor, cache=None) -> torch.Tensor:
        """Gray-level logits (B, T, levels); idx starts with the class token unless a cache already holds it."""
        starts = cache is None or cache.position == 0
        condition = self.class_embedding(idx[:, 0] - self.config.levels) if starts else None  # (B, C)
        return self.gpt(idx, cache, condition)[..., :self.config.levels]  # (B, T, levels)

    def decode_at(self, token: torch.Tensor, slot: torch.Tensor, cache) -> torch.Tensor:
        """GPT.decode_at's static-shape step, gray-level logits (B, 1, levels)."""
        return self.gpt.decode_at(token, slot, cache)[..., :self.config.levels]

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


def class_token(config: PixelConfig, label: int | None) -> int:
    """The token that starts a sequence: class `label` (0-9), or "any class" for None."""
    return config.levels + (N_CLASSES if label is None else label)


def quantize(images: torch.Tensor, levels: int) -> torch.Tensor:
    """uint8 images (N, 28, 28) -> gray-level tokens (N, 784) in [0, levels), raster order."""
    return (images.long() * levels // 256).flatten(1)


def dequantize(tokens: torch.Tensor, levels: int) -> torch.Tensor:
    """Gray-level tokens (N, <=784) -> uint8 values at the middle of each level's range."""
    return ((tokens.float() + 0.5) * (256 / levels)).round().clamp(0, 255).to(torch.uint8)


def sequences(tokens: torch.Tensor, labels: torch.Tensor, config: PixelConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs (N, 784): the class token then pixels 0..782; targets (N, 784): pixels 0..783.
    labels (N,) are class ids, or -1 for "any class"."""
    starts = torch.where(labels < 0, config.levels + N_CLASSES, config.levels + labels)  # (N,)
    return torch.cat([starts[:, None], tokens[:, :-1]], dim=1), tokens
