"""Next-token sampling rules over the full vocabulary, applied in the order temperature, top-k, top-p.

Each rule maps logits (..., V) to logits with removed tokens set to -inf, so they compose and
the survivors keep their relative odds. `generate_tokens` runs a model with a KV cache and
yields one `TokenStep` per new token; `sample_tokens` drains it.
"""
import math
from dataclasses import dataclass
from functools import cached_property
from typing import Iterator

import torch

from genmodels.text.decoding import decoding
from genmodels.text.gpt import GPT


def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """logits / T; T = 0 is the limit T -> 0: only the argmax survives (first one on ties), no division."""
    if temperature < 0:
        raise ValueError("temperature must be >= 0")
    if temperature == 0:
        top = logits.argmax(dim=-1, keepdim=True)
        return torch.full_like(logits, float("-inf")).scatter(-1, top, logits.gather(-1, top))
    return logits / temperature


def apply_top_k(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the k largest logits (ties with the k-th are kept); k = 0 or k >= V turns it off."""
    if k < 0:
        raise ValueError("top_k must be >= 0")
    if k == 0 or k >= logits.shape[-1]:
        return logits
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]  # (..., 1)
    return logits.masked_fill(logits < kth, float("-inf"))


def apply_top_p(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Nucleus sampling (Holtzman et al. 2019): keep the smallest set of most likely tokens whose
    probability reaches p; the token that crosses p is kept, and at least one token always survives."""
    if not 0 < p <= 1:
        raise ValueError("top_p must be in (0, 1]")
    if p == 1:
        return logits
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    sorted_probs = sorted_logits.softmax(dim=-1)
    mass_before = sorted_probs.cumsum(dim=-1) - sorted_probs  # probability of all more likely tokens
    remove_sorted = mass_before >= p
    remove_sorted[..., 0] = False
    remove = remove_sorted.scatter(-1, order, remove_sorted)
    return logits.masked_fill(remove, float("-inf"))


def adjust_logits(logits: torch.Tensor, temperature: float, top_k: int, top_p: float) -> torch.Tensor:
    """Temperature, then top-k, then top-p: the logits the next token is drawn from."""
    return apply_top_p(apply_top_k(apply_temperature(logits, temperature), top_k), top_p)


def entropy_bits(probs: torch.Tensor) -> torch.Tensor:
    """Shannon entropy -sum p log2 p over the last dimension (0 log 0 = 0)."""
    logs = torch.where(probs > 0, probs.log2(), torch.zeros_like(probs))
    return -(probs * logs).sum(dim=-1)


@dataclass
class TokenStep:
    """One sampling step for a batch of B sequences; the distributions are computed when first read."""
    index: int  # 0 for the first generated token
    logits: torch.Tensor  # (B, V) the model's last-position logits, float
    temperature: float  # the settings the token was drawn under
    top_k: int
    top_p: float
    token: torch.Tensor = None  # (B,) sampled token ids, set by sampling_step

    @cached_property
    def adjusted(self) -> torch.Tensor:
        """(B, V) the logits after temperature / top-k / top-p, -inf where removed."""
        return adjust_logits(self.logits, self.temperature, self.top_k, self.top_p)

    @cached_property
    def raw_probs(self) -> torch.Tensor:
        """(B, V) the model's distribution at temperature 1."""
        return self.logits.softmax(dim=-1)

    @cached_property
    def probs(self) -> torch.Tensor:
        """(B, V) the adjusted distribution the token was drawn from."""
        return self.adjusted.softmax(dim=-1)

    @cached_property
    def kept(self) -> torch.Tensor:
        """(B, V) bool, tokens that survived temperature / top-k / top-p."""
        return torch.isfinite(self.adjusted)

    @cached_property
    def entropy_bits(self) -> torch.Tensor:
        """(B,) entropy of the adjusted distribution."""
        return entropy_bits(self.probs)

    @cached_property
    def raw_entropy_bits(self) -> torch.Tensor:
        """(B,) entropy of the model's distribution."""
        return entropy_bits(self.raw_probs)

    @cached_property
    def candidates(self) -> torch.Tensor:
        """(B,) how many tokens remain."""
        return self.kept.sum(-1)


def sampling_step(logits: torch.Tensor, temperature: float, top_k: int, top_p: float,
                  generator: torch.Generator | None, index: int = 0) -> TokenStep:
    """Draw one token per row of last-position logits (B, V); T = 0 takes the argmax (its one survivor), no draw."""
    step = TokenStep(index, logits.float(), temperature, top_k, top_p)
    if temperature == 0:
        step.token = step.logits.argmax(dim=-1)  # (B,)
    else:
        step.token = torch.multinomial(step.probs, 1, generator=generator).squeeze(-1)  # (B,)
    return step


@torch.inference_mode()
def generate_tokens(model: GPT, prompt_ids: list[int] | list[list[int]], max_new_tokens: int,
                    temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
                    generator: torch.Generator | None = None, batch_size: int = 1) -> Iterator[TokenStep]:
    """Yield a TokenStep per new token for `batch_size` continuations of one prompt, or for one continuation of
    each of several prompts of equal length (a list of lists; batch_size is then their number), KV-cached.

    The prompt is left-truncated to the model's context. When the cache is full it is rebuilt
    from the last half context: every logit is the model's exact output on a window of recent tokens.
    """
    rows = prompt_ids if prompt_ids and isinstance(prompt_ids[0], list) else [prompt_ids] * batch_size
    if not all(rows):
        raise ValueError("the prompt needs at least one token (start with the end-of-text token)")
    device = next(model.parameters()).device
    block = model.config.block_size
    history = torch.tensor([row[-block:] for row in rows], dtype=torch.long, device=device)  # (B, T)
    with decoding(model, len(rows)) as decoder:
        logits = decoder.prefill(history)  # (B, V)
        for index in range(max_new_tokens):
            step = sampling_step(logits, temperature, top_k, top_p, generator, index)
            yield step
            if index + 1 == max_new_tokens:
                break
            history = torch.cat([history, step.token[:, None]], dim=1)[:, -block:]  # (B, <= block)
            if decoder.position < block:
                logits = decoder.step(step.token)
            else:  # full: deeper layers' cached keys saw tokens that now fall out, so start again from recent ones
                history = history[:, -(block // 2):]
                logits = decoder.prefill(history)


def sample_tokens(model: GPT, prompt_ids: list[int], max_new_tokens: int, **settings) -> torch.Tensor:
    """Drain generate_tokens: the sampled ids (B, max_new_tokens)."""
    steps = [step.token for step in generate_tokens(model, prompt_ids, max_new_tokens, **settings)]
    return torch.stack(steps, dim=1)


@torch.inference_mode()
def next_token_logits(model: GPT, ids: list[int]) -> torch.Tensor:
    """The model's logits (V,) for the token after `ids` (left-truncated to the context)."""
    device = next(model.parameters()).device
    idx = torch.tensor([ids[-model.config.block_size:]], dtype=torch.long, device=device)
    return model(idx)[0, -1]


@torch.inference_mode()
def token_surprisals(model: GPT, ids: list[int], start_id: int) -> torch.Tensor:
    """-log2 P(token | everything before it) for each of `ids` (N,), the first conditioned on `start_id`.

    Texts longer than the context are scored in windows that each keep half a context of history.
    """
    device = next(model.parameters()).device
    block = model.config.block_size
    stream = torch.tensor([start_id] + list(ids), dtype=torch.long, device=device)
    surprisal = torch.empty(len(ids), device=device)
    scored, stride = 0, block // 2
    while scored < len(ids):
        begin = scored - stride if scored else 0  # later windows re-read `stride` tokens of history
        end = min(len(stream) - 1, begin + block)  # inputs stream[begin:end] predict stream[begin+1:end+1]
        logits = model(stream[begin:end][None])[0]  # (T, V)
        logp = logits.float().log_softmax(-1).gather(-1, stream[begin + 1:end + 1, None])[:, 0]  # (T,)
        new = slice(scored - begin, end - begin)
        surprisal[scored:end] = -logp[new] / math.log(2)
        scored = end
    return surprisal.cpu()
