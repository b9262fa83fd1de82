"""Decoder-only transformer (GPT) with rotary positions, tied embeddings and a KV cache.

Follows nanoGPT's structure; positions are rotary (RoFormer, Su et al. 2021). The cache holds
at most `block_size` tokens; callers that decode further rebuild it from recent tokens.
"""
import copy
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class GPTConfig:
    vocab_size: int = 4096
    block_size: int = 256  # longest context the model attends over
    n_layer: int = 6
    n_head: int = 6
    n_embd: int = 384
    dropout: float = 0.0
    rope_base: float = 10000.0


class KVCache:
    """Keys and values of past tokens per layer, `block_size` slots, filled in order."""

    def __init__(self, config: GPTConfig, batch_size: int, device, dtype=torch.float32):
        head_dim = config.n_embd // config.n_head
        shape = (config.n_layer, batch_size, config.n_head, config.block_size, head_dim)
        self.keys = torch.zeros(shape, device=device, dtype=dtype)  # (L, B, H, S, D)
        self.values = torch.zeros(shape, device=device, dtype=dtype)  # (L, B, H, S, D)
        self.position = 0  # how many tokens the cache holds
        self.condition = None  # (B, 1, C) a conditioning vector the first call set, added to every later token

    @classmethod
    def over(cls, keys: torch.Tensor, values: torch.Tensor, condition: torch.Tensor | None = None) -> "KVCache":
        """A cache over the given keys and values (L, B, H, S, D), without allocating: for a traced step that takes
        them as inputs."""
        cache = cls.__new__(cls)
        cache.keys, cache.values, cache.position, cache.condition = keys, values, 0, condition
        return cache

    def head(self, rows: int, slots: int | None = None, start: int = 0) -> "KVCache":
        """A cache over `rows` rows from row `start` and the first `slots` slots (all when None), sharing this one's
        memory."""
        view = copy.copy(self)
        stop = start + rows
        view.keys, view.values = self.keys[:, start:stop, :, :slots], self.values[:, start:stop, :, :slots]
        view.condition = None if self.condition is None else self.condition[start:stop]
        return view

    def keep_condition(self, condition: torch.Tensor) -> None:
        """Keep the prompt's condition (B, 1, C), in place when one of its shape is held (a CUDA graph reads it)."""
        if self.condition is not None and self.condition.shape == condition.shape:
            self.condition.copy_(condition)
        else:
            self.condition = condition


def rotary_angles(positions: torch.Tensor, head_dim: int, base: float):
    """cos and sin of the rotary angles position * base^(-2i/d), each (T, head_dim/2)."""
    inv_freq = base ** (-torch.arange(0, head_dim, 2, device=positions.device, dtype=torch.float32) / head_dim)
    angles = torch.outer(positions.float(), inv_freq)  # (T, D/2)
    return angles.cos(), angles.sin()


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate each pair of channels (x1, x2) of x (..., T, D) by its position's angle."""
    x1, x2 = x.float().chunk(2, dim=-1)  # (..., T, D/2) each
    rotated = torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)
    return rotated.type_as(x)


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        self.n_head = config.n_head
        self.head_dim = config.n_embd // config.n_head
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=False)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=False)
        self.dropout = config.dropout

    def project(self, x, cos, sin):
        """Queries and keys (rotated) and values, (B, H, T, D) each, for x (B, T, C)."""
        B, T, C = x.shape
        qkv = self.c_attn(x).view(B, T, 3, self.n_head, self.head_dim).permute(2, 0, 3, 1, 4)  # (3, B, H, T, D)
        (q, k), v = apply_rotary(qkv[:2], cos, sin), qkv[2]  # q and k rotated in one pass
        return q, k, v

    def forward(self, x, cos, sin, cache: KVCache | None = None, layer: int = 0, slot: torch.Tensor | None = None,
                mask: torch.Tensor | None = None):
        B, T, C = x.shape
        q, k, v = self.project(x, cos, sin)  # (B, H, T, D) each
        if slot is not None:  # row b's one token into its cache slot slot[b]; `mask` hides later slots, shapes fixed
            # scatter, not indexed assignment: a traced step (serving.tokens) then fits any row count
            index = slot.view(-1, 1, 1, 1).expand_as(k)  # (B, H, 1, D) row b's slot
            cache.keys[layer].scatter_(2, index, k)
            cache.values[layer].scatter_(2, index, v)
            y = F.scaled_dot_product_attention(q, cache.keys[layer], cache.values[layer], attn_mask=mask)
        elif cache is None or cache.position == 0:
            if cache is not None:  # prefill: store the prompt's keys and values
                cache.keys[layer, :, :, :T] = k
                cache.values[layer, :, :, :T] = v
            dropout = self.dropout if self.training else 0.0
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=dropout)
        else:  # one new token attends over every cached token (all are in its past)
            end = cache.position + 1
            cache.keys[layer, :, :, end - 1] = k[:, :, 0]
            cache.values[layer, :, :, end - 1] = v[:, :, 0]
            y = F.scaled_dot_product_attention(q, cache.keys[layer, :, :, :end], cache.values[layer, :, :, :end])
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=False)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=False)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd)
        self.mlp = MLP(config)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x, cos, sin, cache=None, layer=0, slot=None, mask=None):
        x = x + self.dropout(self.attn(self.ln_1(x), cos, sin, cache, layer, slot, mask))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying (Press & Wolf 2017)
        positions = torch.arange(config.block_size)
        rotary = torch.stack(rotary_angles(positions, config.n_embd // config.n_head, config.rope_base))
        self.register_buffer("rotary", rotary, persistent=False)  # (2, block_size, D/2) cos and sin, not saved
        self.apply(self._init_weights)
        for name, param in self.named_parameters():  # GPT-2's scaled init of residual projections
            if name.endswith("c_proj.weight"):
                nn.init.normal_(param, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_params(self) -> int:
        """Parameter count (the tied embedding counted once)."""
        return sum(p.numel() for p in self.parameters())

    def forward(self, idx: torch.Tensor, cache: KVCache | None = None,
                condition: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (B, T, V) for token ids idx (B, T); with a cache, idx continues the cached tokens.
        condition (B, C), optional, is added to every token's embedding; a cache keeps it for later calls."""
        B, T = idx.shape
        start = cache.position if cache is not None else 0
        if cache is not None and start > 0 and T != 1:
            raise ValueError("after the prompt, a KV cache takes one token at a time")
        if start + T > self.config.block_size:
            raise ValueError(f"{start + T} tokens exceed the context of {self.config.block_size}")
        cos, sin = self.rotary[:, start:start + T]  # (T, D/2) each
        x = self.wte(idx)  # (B, T, C)
        if condition is not None:
            condition = condition[:, None]  # (B, 1, C)
            if cache is not None:
                cache.keep_condition(condition)
        elif cache is not None:
            condition = cache.condition
        if condition is not None:
            x = x + condition
        x = self.drop(x)
        for layer, block in enumerate(self.blocks):
            x = block(x, cos, sin, cache, layer)
        if cache is not None:
            cache.position += T
        return self.lm_head(self.ln_f(x))  # (B, T, V)

    def decode_at(self, token: torch.Tensor, slot: torch.Tensor, cache: KVCache) -> torch.Tensor:
        """Logits (B, 1, V) for one token per row (B, 1) written to cache slot `slot` (long, (1,) for every row or
        (B,) one per row: each row's own position, as rows of a continuous batch have).

        It attends over the whole cache with each row's later slots masked, so every shape is fixed and a CUDA
        graph can replay it; the same logits as forward(token, cache). It leaves cache.position to the caller."""
        cos, sin = self.rotary[:, slot, None, None]  # (1 or B, 1, 1, D/2) each
        # made once for every layer, and additive: a boolean mask costs each layer its own conversion to this
        later = torch.arange(cache.keys.shape[3], device=slot.device) > slot[:, None, None, None]  # (1 or B, 1, 1, S)
        mask = torch.zeros(later.shape, dtype=cache.keys.dtype, device=slot.device).masked_fill(later, -math.inf)
        x = self.wte(token)  # (B, 1, C)
        if cache.condition is not None:
            x = x + cache.condition
        for layer, block in enumerate(self.blocks):
            x = block(x, cos, sin, cache, layer, slot, mask)
        return self.lm_head(self.ln_f(x))  # (B, 1, V)
