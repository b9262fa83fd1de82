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


NUCLEUS_GUESS = 256  # top-p first looks among this many most likely tokens, and sorts all only if they fall short
SCORED_LOGITS = 1 << 22  # the logits one batch of scoring windows may hold (16 MB of float32)
SMALLEST_NORMAL = torch.finfo(torch.float32).tiny  # the entropy's log reads p = 0 as this: 0 log 0 = 0, not nan


def per_row(value, logits: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
    """A setting for each row of logits (..., V): a number repeated, or a tensor (...) of one per row, as it is."""
    return torch.as_tensor(value, dtype=dtype or logits.dtype, device=logits.device).expand(logits.shape[:-1])


def first_argmax(x: torch.Tensor, keepdim: bool = False) -> torch.Tensor:
    """The index of each row's largest value, the first on ties, as argmax gives it; max finds it faster on the
    CPU."""
    return x.max(dim=-1, keepdim=keepdim).indices


def on_rows(rule, logits: torch.Tensor, on: torch.Tensor, *settings: torch.Tensor) -> torch.Tensor:
    """rule(logits, *settings) on the rows where `on` (...) is true, the others as they are: a rule's sort or
    argmax, most of its cost, runs on those rows alone (each row's result does not depend on the others)."""
    if bool(on.all()):
        return rule(logits, *settings)
    changed = logits.clone()
    changed[on] = rule(logits[on], *[setting[on] for setting in settings])
    return changed


def apply_temperature(logits: torch.Tensor, temperature) -> torch.Tensor:
    """logits / T; T = 0 is the limit T -> 0: only the argmax survives (first one on ties), no division.
    T is a number, or one per row (a batch of requests with their own settings)."""
    if isinstance(temperature, (int, float)):
        if temperature < 0:
            raise ValueError("temperature must be >= 0")
        if temperature == 1:  # x / 1 is x: the same logits, without a pass over them
            return logits
    t = per_row(temperature, logits)  # (...)
    greedy = t == 0
    scaled = logits / torch.where(greedy, 1.0, t)[..., None]  # a greedy row's logits as they are
    if not greedy.any():
        return scaled
    return on_rows(only_the_top, scaled, greedy)


def only_the_top(logits: torch.Tensor) -> torch.Tensor:
    """-inf everywhere but at each row's first argmax."""
    top = first_argmax(logits, keepdim=True)
    return torch.full_like(logits, float("-inf")).scatter(-1, top, logits.gather(-1, top))


def apply_top_k(logits: torch.Tensor, k) -> torch.Tensor:
    """Keep the k largest logits (ties with the k-th are kept); k = 0 or k >= V turns it off. k: a number or one
    per row."""
    if isinstance(k, int):
        if k < 0:
            raise ValueError("top_k must be >= 0")
        if k == 0:
            return logits
    k = per_row(k, logits, torch.long)  # (...)
    on = (k > 0) & (k < logits.shape[-1])
    if not on.any():
        return logits
    return on_rows(keep_top_k, logits, on, k)


def keep_top_k(logits: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Each row's k (...) largest logits and the ties of the k-th; -inf elsewhere."""
    values = torch.topk(logits, int(k.max()), dim=-1).values  # (..., largest k) in descending order
    kth = values.gather(-1, (k - 1)[..., None])  # (..., 1)
    return logits.masked_fill(logits < kth, float("-inf"))


def nucleus(probs: torch.Tensor, p: torch.Tensor, ranked: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The nucleus of each row of probs (R, V) for p (R, 1) found among its `ranked` most likely tokens: the kept
    tokens (R, V) bool, and whether those tokens reach p (R, 1), without which the answer is not final."""
    if ranked < probs.shape[-1]:
        sorted_probs, order = probs.topk(ranked, dim=-1)  # (R, ranked) in descending order
    else:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
    mass = sorted_probs.cumsum(dim=-1)
    remove_sorted = (mass - sorted_probs) >= p  # the probability of all more likely tokens reached p
    remove_sorted[..., 0] = False
    return torch.zeros_like(probs, dtype=torch.bool).scatter(-1, order, ~remove_sorted), mass[..., -1:] >= p


def apply_top_p(logits: torch.Tensor, p) -> torch.Tensor:
    """Nucleus sampling (Holtzman et al. 2019): keep the smallest set of most likely tokens whose
    probability reaches p; the token that crosses p is kept, and at least one token always survives.
    p: a number or one per row. Rows are ranked over their NUCLEUS_GUESS most likely tokens first, and fully sorted
    only where those fall short of p (sorting the whole vocabulary costs ten times more)."""
    if isinstance(p, (int, float)):
        if not 0 < p <= 1:
            raise ValueError("top_p must be in (0, 1]")
        if p == 1:
            return logits
    p = per_row(p, logits)  # (...)
    on = p < 1
    if not on.any():
        return logits
    return on_rows(keep_nucleus, logits, on, p)


def keep_nucleus(logits: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """Each row's nucleus for its p (...); -inf elsewhere."""
    vocab = logits.shape[-1]
    probs, p = logits.softmax(dim=-1).reshape(-1, vocab), p.reshape(-1, 1)  # (R, V), (R, 1)
    keep, reached = nucleus(probs, p, min(NUCLEUS_GUESS, vocab))
    short = ~reached[:, 0]  # (R,)
    if short.any():
        keep[short] = nucleus(probs[short], p[short], vocab)[0]
    return logits.masked_fill(~keep.view(logits.shape), float("-inf"))


def adjust_logits(logits: torch.Tensor, temperature: float, top_k: int, top_p: float) -> torch.Tensor:
    """Temperature, then top-k, then top-p: the logits the next token is drawn from."""
    return apply_top_p(apply_top_k(apply_temperature(logits, temperature), top_k), top_p)


def check_settings(temperature: float, top_k: int, top_p: float) -> None:
    """Raise the ValueError the rules would raise, before a request's rows join a batch that is adjusted at once."""
    adjust_logits(torch.zeros(1), temperature, top_k, top_p)


def entropy_bits(probs: torch.Tensor) -> torch.Tensor:
    """Shannon entropy -sum p log2 p over the last dimension (0 log 0 = 0); the natural log, then to bits, and not
    xlogy, whose log is not vectorized on the CPU."""
    return -(probs * probs.clamp_min(SMALLEST_NORMAL).log()).sum(dim=-1) / math.log(2)


DISTRIBUTIONS = ("adjusted", "raw_probs", "probs", "kept", "entropy_bits", "raw_entropy_bits", "candidates")


@dataclass
class TokenStep:
    """One sampling step for a batch of B sequences; the distributions are computed when first read."""
    index: int  # 0 for the first generated token
    logits: torch.Tensor  # (B, V) the model's last-position logits, float
    temperature: float  # the settings the token was drawn under (one per row, (B,), for an engine's whole tick)
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
        """(B, V) the adjusted distribution the token was drawn from (the model's, where no rule changed a logit)."""
        return self.raw_probs if self.adjusted is self.logits else self.adjusted.softmax(dim=-1)

    @cached_property
    def kept(self) -> torch.Tensor:
        """(B, V) bool, tokens that survived temperature / top-k / top-p."""
        return self.adjusted.isneginf().logical_not()  # the rules remove with -inf, and isfinite makes four passes

    @cached_property
    def entropy_bits(self) -> torch.Tensor:
        """(B,) entropy of the adjusted distribution."""
        return self.raw_entropy_bits if self.probs is self.raw_probs else entropy_bits(self.probs)

    @cached_property
    def raw_entropy_bits(self) -> torch.Tensor:
        """(B,) entropy of the model's distribution."""
        return entropy_bits(self.raw_probs)

    @cached_property
    def candidates(self) -> torch.Tensor:
        """(B,) how many tokens remain."""
        return self.kept.sum(-1)

    def compute_all(self) -> "TokenStep":
        """Compute every distribution now, for all rows at once (an engine's tick, before handing out its rows)."""
        for name in DISTRIBUTIONS:
            getattr(self, name)
        return self

    def rows(self, rows: slice | torch.Tensor, index: int, temperature: float, top_k: int,
             top_p: float) -> "TokenStep":
        """Rows `rows` as a step of their own, keeping the distributions computed so far (a cached_property reads
        the instance's dict first, so handing them over is setting it) and the tokens drawn."""
        part = TokenStep(index, self.logits[rows], temperature, top_k, top_p)
        part.__dict__.update({name: value[rows] for name, value in vars(self).items() if name in DISTRIBUTIONS})
        if self.token is not None:
            part.token = self.token[rows]
        return part

    def draw(self, generator: torch.Generator | None) -> "TokenStep":
        """Draw each row's token: the argmax at T = 0 (no random number used), else torch.multinomial's one-sample
        rule written out (the argmax of p / q, q ~ Exp(1) per token): the same draws from the same generator."""
        if self.temperature == 0:
            self.token = first_argmax(self.logits)  # (B,)
        else:
            noise = torch.empty_like(self.probs).exponential_(generator=generator)  # (B, V)
            self.token = first_argmax(self.probs / noise)  # (B,)
        return self


def sampling_step(logits: torch.Tensor, temperature: float, top_k: int, top_p: float,
                  generator: torch.Generator | None, index: int = 0) -> TokenStep:
    """Draw one token per row of last-position logits (B, V); T = 0 takes the argmax (its one survivor), no draw."""
    return TokenStep(index, logits.float(), temperature, top_k, top_p).draw(generator)


@dataclass(frozen=True)
class Guidance:
    """Classifier-free guidance for a token model: each drawn row has a twin that runs from `unconditional_ids`, and
    its token is drawn from u + scale (c - u), its own (conditional) logits pushed away from its twin's. Scale 1 is
    the conditional model, 0 the unconditional one; the twin is fed every token its row draws."""
    unconditional_ids: list[int]
    scale: float

    def mix(self, logits: torch.Tensor) -> torch.Tensor:
        """Logits (2B, V), the B drawn rows then their twins -> the guided logits (B, V), float."""
        conditional, unconditional = logits.float().chunk(2)
        return unconditional + self.scale * (conditional - unconditional)


def prompt_rows(prompt_ids: list[int] | list[list[int]], batch_size: int,
                guidance: Guidance | None) -> list[list[int]]:
    """Each row's prompt: `batch_size` copies of one prompt, or each of several (a list of lists), then as many
    unconditional twins when guided; a ValueError if one is empty or their lengths differ."""
    rows = prompt_ids if prompt_ids and isinstance(prompt_ids[0], list) else [prompt_ids] * batch_size
    if guidance is not None:
        rows = rows + [guidance.unconditional_ids] * len(rows)
    if not all(rows):
        raise ValueError("the prompt needs at least one token (start with the end-of-text token)")
    if len({len(row) for row in rows}) > 1:
        raise ValueError("the prompts (and the unconditional prompt) must have the same length")
    return rows


def guided(logits: torch.Tensor, guidance: Guidance | None) -> torch.Tensor:
    """The logits the drawn rows sample from: all of `logits`, or their guided mix."""
    return logits if guidance is None else guidance.mix(logits)


@torch.inference_mode()
def generate_tokens(model: GPT, prompt_ids: list[int] | list[list[int]], max_new_tokens: int,
                    temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
                    generator: torch.Generator | None = None, batch_size: int = 1,
                    guidance: Guidance | None = None) -> Iterator[TokenStep]:
    """Yield a TokenStep per new token for `batch_size` continuations of one prompt, or for one continuation of
    each of several prompts of equal length (a list of lists; batch_size is then their number), KV-cached; with
    `guidance`, each continuation also runs a twin from the unconditional prompt (of the same length).

    The prompt is left-truncated to the model's context. When the cache is full it is rebuilt
    from the last half context: every logit is the model's exact output on a window of recent tokens.
    """
    rows = prompt_rows(prompt_ids, batch_size, guidance)
    device = next(model.parameters()).device
    block = model.config.block_size
    history = torch.tensor([row[-block:] for row in rows], dtype=torch.long, device=device)  # (rows, T)
    with decoding(model, len(rows)) as decoder:
        logits = decoder.prefill(history)  # (rows, V)
        for index in range(max_new_tokens):
            step = sampling_step(guided(logits, guidance), temperature, top_k, top_p, generator, index)
            yield step
            if index + 1 == max_new_tokens:
                break
            fed = step.token.repeat(len(rows) // len(step.token))  # (rows,) a guided row's twin reads its token
            history = torch.cat([history, fed[:, None]], dim=1)[:, -block:]  # (rows, <= block)
            if decoder.position < block:
                logits = decoder.step(fed)
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


def scoring_windows(tokens: int, block: int) -> list[tuple[int, int, int]]:
    """The windows that score `tokens` tokens with a `block`-token context, as (begin, end, first): inputs
    stream[begin:end] predict stream[begin + 1:end + 1], and those from `first` on are scored (a later window re-reads
    half a context of history)."""
    windows, scored = [], 0
    while scored < tokens:
        begin = scored - block // 2 if scored else 0
        end = min(tokens, begin + block)
        windows.append((begin, end, scored))
        scored = end
    return windows


@torch.inference_mode()
def token_surprisals(model: GPT, ids: list[int], start_id: int) -> torch.Tensor:
    """-log2 P(token | everything before it) for each of `ids` (N,), the first conditioned on `start_id`.

    Texts longer than the context are scored in windows that each keep half a context of history; windows of one
    length are read in batches of at most SCORED_LOGITS logits, since a small model's pass over one window costs
    nearly what a pass over many does.
    """
    device = next(model.parameters()).device
    block = model.config.block_size
    stream = torch.tensor([start_id] + list(ids), dtype=torch.long, device=device)
    surprisal = torch.empty(len(ids), device=device)
    by_length: dict[int, list] = {}
    for window in scoring_windows(len(ids), block):
        by_length.setdefault(window[1] - window[0], []).append(window)
    per_batch = max(1, SCORED_LOGITS // (block * model.config.vocab_size))
    for length, windows in by_length.items():
        for first_window in range(0, len(windows), per_batch):
            batch = windows[first_window:first_window + per_batch]
            inputs = torch.stack([stream[begin:end] for begin, end, _ in batch])  # (B, length)
            targets = torch.stack([stream[begin + 1:end + 1] for begin, end, _ in batch])  # (B, length)
            logp = model(inputs).float().log_softmax(-1).gather(-1, targets[..., None])[..., 0]  # (B, length)
            for row, (begin, end, first) in enumerate(batch):
                surprisal[first:end] = -logp[row, first - begin:] / math.log(2)
    return surprisal.cpu()
