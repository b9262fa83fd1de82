"""U-Net noise predictor eps_theta(x_t, t, c) for 28x28 grayscale images (Ho et al. 2020; Dhariwal & Nichol 2021).

Resolutions 28 -> 14 -> 7 with stride-2 convolutions down and nearest-neighbour upsampling plus a convolution up;
no padding to 32x32, so every position holds a real pixel, and the 7x7 bottleneck (49 positions) makes
self-attention there cheap. The timestep's sinusoidal embedding goes through an MLP, the text vector is projected
and added to it, and every residual block applies the sum as a FiLM scale and shift after its second GroupNorm
(adaptive group normalization, Dhariwal & Nichol 2021, sec. 3).
"""
import math
from dataclasses import dataclass
from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class UNetConfig:
    channels: tuple[int, ...] = (64, 128, 256)  # per resolution 28, 14, 7; the last is the attention bottleneck
    num_res_blocks: int = 1  # per resolution on each side of the U (2 costs 1.5x the CPU time per denoising step)
    n_head: int = 4  # attention heads at the bottleneck
    cond_dim: int = 256  # width of the text encoder's vector
    groups: int = 8  # GroupNorm groups (Wu & He 2018)
    dropout: float = 0.0

    def __post_init__(self):
        self.channels = tuple(self.channels)  # JSON gives back a list


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """(cos, sin) of t / max_period^(i / (dim/2)) for t (B,) -> (B, dim) (Vaswani et al. 2017, sec. 3.5)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = t.float()[:, None] * freqs[None]  # (B, dim/2)
    return torch.cat([angles.cos(), angles.sin()], dim=-1)


def zero_init(module: nn.Module) -> nn.Module:
    """Zero a layer's weights and bias, so the residual branch it ends starts as nothing (Goyal et al. 2017)."""
    for p in module.parameters():
        nn.init.zeros_(p)
    return module


class ResBlock(nn.Module):
    """GroupNorm-SiLU-conv twice with a FiLM scale and shift from the embedding after the second norm, plus a skip."""

    def __init__(self, c_in: int, c_out: int, emb_dim: int, config: UNetConfig):
        super().__init__()
        self.norm1 = nn.GroupNorm(config.groups, c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.film = nn.Linear(emb_dim, 2 * c_out)
        self.norm2 = nn.GroupNorm(config.groups, c_out)
        self.dropout = nn.Dropout(config.dropout)
        self.conv2 = zero_init(nn.Conv2d(c_out, c_out, 3, padding=1))
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))  # (B, C_out, H, W)
        scale, shift = self.film(emb)[:, :, None, None].chunk(2, dim=1)  # (B, C_out, 1, 1) each
        h = self.conv2(self.dropout(F.silu(self.norm2(h) * (1 + scale) + shift)))
        return self.skip(x) + h


class Attention(nn.Module):
    """Multi-head self-attention over the H*W positions, residual (Ho et al. 2020 put it at 16x16; here 7x7)."""

    def __init__(self, channels: int, config: UNetConfig):
        super().__init__()
        assert channels % config.n_head == 0
        self.n_head = config.n_head
        self.norm = nn.GroupNorm(config.groups, channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = zero_init(nn.Conv2d(channels, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, H, W = x.shape
        qkv = self.qkv(self.norm(x)).view(B, 3, self.n_head, C // self.n_head, H * W)
        q, k, v = qkv.transpose(-1, -2).unbind(dim=1)  # (B, heads, HW, D) each
        y = F.scaled_dot_product_attention(q, k, v)  # (B, heads, HW, D)
        return x + self.proj(y.transpose(-1, -2).reshape(B, C, H, W))


class UNet(nn.Module):
    def __init__(self, config: UNetConfig):
        super().__init__()
        self.config = config
        ch, n = config.channels, config.num_res_blocks
        if len(ch) not in (2, 3):
            raise ValueError(f"channels names 2 or 3 resolutions (28, 14, 7), not {len(ch)}: 7 does not halve")
        emb_dim = 4 * ch[0]
        self.time_mlp = nn.Sequential(nn.Linear(ch[0], emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.cond_proj = nn.Linear(config.cond_dim, emb_dim)
        self.conv_in = nn.Conv2d(1, ch[0], 3, padding=1)
        self.down = nn.ModuleList(
            nn.ModuleList(ResBlock(c, c, emb_dim, config) for _ in range(n)) for c in ch[:-1])
        self.downsample = nn.ModuleList(nn.Conv2d(a, b, 3, stride=2, padding=1) for a, b in pairwise(ch))
        self.mid = nn.ModuleList(ResBlock(ch[-1], ch[-1], emb_dim, config) for _ in range(2))
        self.mid_attn = Attention(ch[-1], config)
        self.upsample = nn.ModuleList(
            nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(b, a, 3, padding=1))
            for a, b in pairwise(ch))
        self.up = nn.ModuleList(
            nn.ModuleList(ResBlock(2 * c if i == 0 else c, c, emb_dim, config) for i in range(n)) for c in ch[:-1])
        self.norm_out = nn.GroupNorm(config.groups, ch[0])
        self.conv_out = zero_init(nn.Conv2d(ch[0], 1, 3, padding=1))

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, x: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """Predicted noise (B, 1, 28, 28) for x_t (B, 1, 28, 28), timesteps t (B,) in 0..T-1, text vectors (B, D)."""
        emb = self.time_mlp(timestep_embedding(t, self.config.channels[0])) + self.cond_proj(cond)  # (B, E)
        emb = F.silu(emb)
        h = self.conv_in(x)  # (B, C0, 28, 28)
        skips = []
        for blocks, downsample in zip(self.down, self.downsample, strict=True):
            for block in blocks:
                h = block(h, emb)
            skips.append(h)  # (B, C_i, R_i, R_i)
            h = downsample(h)  # (B, C_i+1, R_i / 2, R_i / 2)
        h = self.mid[1](self.mid_attn(self.mid[0](h, emb)), emb)  # (B, C_last, 7, 7)
        for blocks, upsample, skip in zip(reversed(self.up), reversed(self.upsample), reversed(skips), strict=True):
            h = torch.cat([upsample(h), skip], dim=1)  # (B, 2 C_i, R_i, R_i)
            for block in blocks:
                h = block(h, emb)
        return self.conv_out(F.silu(self.norm_out(h)))  # (B, 1, 28, 28)
