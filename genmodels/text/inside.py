"""Inside the GPT's forward pass: the attention each block computed, the logit lens, the data flow with its shapes.

Everything is read from the model's own forward through forward hooks, never from a second implementation.
F.scaled_dot_product_attention does not hand out its weights, so the hook on each block's attention recomputes
softmax(q k^T / sqrt(d) + causal mask) from that block's own q and k (its `project` of the input it received); the
hook on each block keeps the residual stream it returns. The pixel transformer is this GPT inside, read the same way.
"""
import math
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import nn

from genmodels.text.gpt import GPT


def causal_attention(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """softmax(q k^T / sqrt(d) + causal mask) (B, H, T, T) for q, k (B, H, T, D) (Vaswani et al. 2017, eq. 1)."""
    T = q.shape[-2]
    scores = q.float() @ k.float().transpose(-2, -1) / math.sqrt(q.shape[-1])  # (B, H, T, T)
    future = torch.ones(T, T, dtype=torch.bool, device=q.device).triu(1)
    return scores.masked_fill(future, float("-inf")).softmax(-1)


@dataclass
class Recording:
    """What forwards through a GPT computed inside, in the order they ran."""
    attention: list[torch.Tensor] = field(default_factory=list)  # per block: (B, H, T, T)
    residual: list[torch.Tensor] = field(default_factory=list)  # the first block's input, then each block's output


@contextmanager
def recorded(gpt: GPT):
    """A Recording that fills with every forward this thread runs through `gpt` inside the block. The model is shared:
    the serving engines' threads run it meanwhile, and their forwards are left out."""
    thread, record = threading.get_ident(), Recording()

    def on_attention(attn: nn.Module, args: tuple, output: torch.Tensor) -> None:
        x, cos, sin, cache = args[:4]  # CausalSelfAttention.forward's inputs, as Block passes them
        if threading.get_ident() != thread:
            return
        if cache is not None:  # a cached step's query sees keys that this forward did not compute
            raise ValueError("attention is recorded on a forward without a KV cache")
        q, k, _ = attn.project(x, cos, sin)  # (B, H, T, D) each: the block's own queries and keys
        record.attention.append(causal_attention(q, k))

    def on_block(block: nn.Module, args: tuple, output: torch.Tensor) -> None:
        if threading.get_ident() != thread:
            return
        if block is gpt.blocks[0]:
            record.residual.append(args[0])  # (B, T, C) the embedding, as the first block receives it
        record.residual.append(output)  # (B, T, C)

    handles = [block.attn.register_forward_hook(on_attention) for block in gpt.blocks]
    handles += [block.register_forward_hook(on_block) for block in gpt.blocks]
    try:
        yield record
    finally:
        for handle in handles:
            handle.remove()


@dataclass(frozen=True)
class Inside:
    """One prompt's forward, read from inside: every block's attention and the last position's logit lens."""
    attention: torch.Tensor  # (L, H, T, T) each row sums to 1, zero above the diagonal
    lens_logits: torch.Tensor  # (L + 1, V) the last position read out from the embedding, then after each block
    logits: torch.Tensor  # (V,) the model's own next-token logits


@torch.inference_mode()
def look_inside(gpt: GPT, ids: list[int]) -> Inside:
    """Run `gpt` once over `ids` (at most its context) and read what it computed; tensors on the CPU."""
    with recorded(gpt) as record:
        logits = gpt(torch.tensor([ids], device=gpt.lm_head.weight.device))  # (1, T, V)
    stream = torch.stack([r[0, -1] for r in record.residual])  # (L + 1, C) the last position's residual stream
    lens_logits = gpt.lm_head(gpt.ln_f(stream))  # (L + 1, V) the logit lens: the final norm, the tied unembedding
    attention = torch.stack([a[0] for a in record.attention])  # (L, H, T, T)
    return Inside(attention.cpu(), lens_logits.float().cpu(), logits[0, -1].float().cpu())


def lens_ranks(lens_logits: torch.Tensor, token: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Probability (L + 1,) and rank (L + 1,), 1 = most likely, of `token` at each read-out of the logit lens."""
    probs = lens_logits.softmax(-1)  # (L + 1, V)
    chosen = probs[:, token]  # (L + 1,)
    return chosen, (probs > chosen[:, None]).sum(-1) + 1


def parameters(*modules: nn.Module) -> int:
    """How many numbers `modules` learn."""
    return sum(p.numel() for module in modules for p in module.parameters())


def stage(name: str, detail: str, shape: dict, params: int, view: str) -> dict:
    """One step of the forward pass: `shape` maps each axis's symbol to its size."""
    return {"name": name, "detail": detail, "axes": list(shape), "shape": list(shape.values()), "params": params,
            "view": view}


def data_flow(gpt: GPT, T: int) -> list[dict]:
    """The forward pass over `T` tokens, step by step: what each step is, its output shape, its parameters (they add up
    to the model's), and the view ("tokens", "attention" or "lens") that shows it."""
    c = gpt.config
    stream = {"T": T, "d": c.n_embd}
    stages = [stage("tokens", "ids from the tokenizer", {"T": T}, 0, "tokens"),
              stage("embedding", f"a row of {c.n_embd} numbers per token id", stream, parameters(gpt.wte), "tokens")]
    for layer, block in enumerate(gpt.blocks, 1):
        stages.append(stage(f"block {layer} attention", f"{c.n_head} heads of {c.n_embd // c.n_head}, rotary "
                            "positions; added to the stream", stream, parameters(block.ln_1, block.attn), "attention"))
        stages.append(stage(f"block {layer} MLP", f"{c.n_embd} → {4 * c.n_embd} → {c.n_embd}, GELU; added to the "
                            "stream", stream, parameters(block.ln_2, block.mlp), "lens"))
    stages.append(stage("final norm + unembedding", "the embedding's weights reused (tied): a logit per token id",
                        {"T": T, "V": c.vocab_size}, parameters(gpt.ln_f), "lens"))
    return stages
