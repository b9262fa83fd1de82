"""Incremental decoding through a KV cache: the prompt in one pass, then one token at a time.

On a CUDA device each one-token step replays a CUDA graph of the model's `decode_at` (genmodels.fastpath):
at this model size an eager step is mostly kernel launches. The graph, and the KV cache it writes, are lent
from a pool for one generation at a time, so concurrent users never share a cache. Elsewhere, when the pool
is spent, or with GENMODELS_CUDA_GRAPHS=0, each step is a plain forward pass; both give the same logits.
"""
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

import torch

from genmodels.fastpath import FAST_PATH, GraphPool, StaticCall
from genmodels.text.gpt import KVCache

POOL = GraphPool(limit=16)


@dataclass
class GraphedStep:
    """A KV cache and the recorded one-token step that writes it (recorded at its first use)."""
    cache: KVCache
    step: StaticCall | None = None


class Decoder:
    """prefill(ids) then step(token) for a batch of B sequences; `position` counts the tokens in the cache."""

    def __init__(self, model: torch.nn.Module, batch_size: int, device: torch.device, graphed: GraphedStep | None):
        self.model = model
        self.graphed = graphed
        self.cache = graphed.cache if graphed is not None else KVCache(model.config, batch_size, device)
        self.slot = torch.zeros(1, dtype=torch.long, device=device)  # (1,) the step's cache slot, for the graph

    @property
    def position(self) -> int:
        return self.cache.position

    def prefill(self, ids: torch.Tensor) -> torch.Tensor:
        """Empty the cache, read ids (B, T) into it; the last position's logits (B, V)."""
        self.cache.position = 0
        return self.model(ids, self.cache)[:, -1]

    def step(self, token: torch.Tensor) -> torch.Tensor:
        """Append one token per row (B,); the logits (B, V) for the token after it."""
        if self.graphed is None:
            return self.model(token[:, None], self.cache)[:, -1]
        self.slot.fill_(self.cache.position)
        if self.graphed.step is None:
            decode = partial(self.model.decode_at, cache=self.cache)
            self.graphed.step = StaticCall(decode, token[:, None], self.slot)
        logits = self.graphed.step(token[:, None], self.slot)[:, -1]
        self.cache.position += 1
        return logits


@contextmanager
def decoding(model: torch.nn.Module, batch_size: int):
    """A Decoder for the block: graphed on CUDA when the pool has one to lend, plain otherwise."""
    device = next(model.parameters()).device
    if not FAST_PATH.enabled(device):
        yield Decoder(model, batch_size, device, None)
        return
    key = (id(model), batch_size, str(device))
    with POOL.lent(key, lambda: GraphedStep(KVCache(model.config, batch_size, device))) as graphed:
        yield Decoder(model, batch_size, device, graphed)
