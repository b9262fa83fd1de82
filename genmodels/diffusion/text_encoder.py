"""A small bidirectional transformer that turns a prompt into the U-Net's conditioning vector.

It reads the project's byte-level BPE ids (lower-cased prompt, truncated to max_tokens, padded with a mask),
mean-pools the final states over the real tokens and projects them to cond_dim. The empty prompt has no tokens
and maps to a learned null embedding: the unconditional model of classifier-free guidance (Ho & Salimans 2022).
Trained jointly with the U-Net by genmodels.diffusion.train.
"""
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from tokenizers import Tokenizer
from torch import nn

from genmodels.diffusion.captions import PHRASES
from genmodels.text.tokenizer import encode


@dataclass
class TextEncoderConfig:
    vocab_size: int = 4096
    max_tokens: int = 24  # longer prompts are truncated
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 128
    cond_dim: int = 256  # width of the pooled vector the U-Net reads


def normalize_prompt(prompt: str) -> str:
    """Lower case, single spaces, no padding: "  A  Sneaker " -> "a sneaker" (captions are written this way)."""
    return " ".join(prompt.lower().split())


def tokenize(tokenizer: Tokenizer, prompts: list[str], max_tokens: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids (B, max_tokens) padded with 0 and a mask (B, max_tokens) of the real ones; "" has none."""
    ids = torch.zeros(len(prompts), max_tokens, dtype=torch.long)
    mask = torch.zeros(len(prompts), max_tokens, dtype=torch.bool)
    for row, prompt in enumerate(prompts):
        tokens = encode(tokenizer, normalize_prompt(prompt))[:max_tokens]
        ids[row, :len(tokens)] = torch.tensor(tokens, dtype=torch.long)
        mask[row, :len(tokens)] = True
    return ids, mask


class SelfAttention(nn.Module):
    def __init__(self, config: TextEncoderConfig):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        self.n_head = config.n_head
        self.qkv = nn.Linear(config.n_embd, 3 * config.n_embd)
        self.proj = nn.Linear(config.n_embd, config.n_embd)

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor) -> torch.Tensor:
        B, L, C = x.shape
        q, k, v = self.qkv(x).view(B, L, 3, self.n_head, C // self.n_head).permute(2, 0, 3, 1, 4)  # (B, H, L, D) each
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)  # (B, H, L, D)
        return self.proj(y.transpose(1, 2).reshape(B, L, C))


class Block(nn.Module):
    """Pre-LayerNorm transformer block (Xiong et al. 2020) without a causal mask."""

    def __init__(self, config: TextEncoderConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd)
        self.attn = SelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd)
        self.mlp = nn.Sequential(nn.Linear(config.n_embd, 4 * config.n_embd), nn.GELU(),
                                 nn.Linear(4 * config.n_embd, config.n_embd))

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), attn_mask)
        return x + self.mlp(self.ln_2(x))


class TextEncoder(nn.Module):
    def __init__(self, config: TextEncoderConfig):
        super().__init__()
        self.config = config
        self.tok_emb = nn.Embedding(config.vocab_size, config.n_embd)
        self.pos_emb = nn.Parameter(torch.randn(config.max_tokens, config.n_embd) * 0.02)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.proj = nn.Linear(config.n_embd, config.cond_dim)
        self.null = nn.Parameter(torch.randn(config.cond_dim) * 0.5)  # about the scale of proj's outputs at init
        nn.init.normal_(self.tok_emb.weight, std=0.02)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Conditioning vectors (B, cond_dim) of token ids (B, L) with mask (B, L); rows without tokens get null."""
        empty = ~mask.any(dim=1)  # (B,)
        attn_mask = (mask | empty[:, None])[:, None, None, :]  # (B, 1, 1, L); empty rows see all, so no NaN
        x = self.tok_emb(ids) + self.pos_emb[:ids.shape[1]]  # (B, L, C)
        for block in self.blocks:
            x = block(x, attn_mask)
        weights = mask.unsqueeze(-1).to(x.dtype)  # (B, L, 1)
        pooled = (self.ln_f(x) * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1)  # (B, C)
        out = self.proj(pooled)  # (B, cond_dim)
        return torch.where(empty[:, None], self.null.to(out.dtype), out)


def encode_prompts(encoder: TextEncoder, tokenizer: Tokenizer, prompts: list[str], device) -> torch.Tensor:
    """Conditioning vectors (B, cond_dim) of the prompts, on `device`; "" gives the null embedding."""
    ids, mask = tokenize(tokenizer, prompts, encoder.config.max_tokens)
    return encoder(ids.to(device), mask.to(device))


def class_prototypes(encoder: TextEncoder, tokenizer: Tokenizer, device) -> torch.Tensor:
    """Unit vectors (10, D): each class's prototype, the normalized mean of its phrases' unit vectors (PHRASES)."""
    phrases = [phrase for class_phrases in PHRASES for phrase in class_phrases]
    unit = F.normalize(encode_prompts(encoder, tokenizer, phrases, device).float(), dim=-1)  # (P, D)
    prototypes = torch.stack([part.mean(dim=0) for part in unit.split([len(p) for p in PHRASES])])  # (10, D)
    return F.normalize(prototypes, dim=-1)


def class_similarity(encoder: TextEncoder, tokenizer: Tokenizer, prompts: list[str], device,
                     prototypes: torch.Tensor | None = None) -> torch.Tensor:
    """Cosine similarity (B, 10) of each prompt's vector with each class prototype: "what the text encoder
    understood". Pass precomputed `prototypes` (class_prototypes) to skip encoding the phrases again."""
    if prototypes is None:
        prototypes = class_prototypes(encoder, tokenizer, device)
    prompt_unit = F.normalize(encode_prompts(encoder, tokenizer, prompts, device).float(), dim=-1)  # (B, D)
    return prompt_unit @ prototypes.T  # (B, 10)
