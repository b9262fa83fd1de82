"""JSON-friendly views of what the text model does: prompts, sampling steps, continuations and scores.

Both the UI and the public API read these; they hold no UI code and no new math, only the
bookkeeping that turns tensors into tokens, probabilities and bits a person can read.
"""
from dataclasses import dataclass, field

import torch

from genmodels import serving
from genmodels.runtime import make_generator, timer
from genmodels.text.pretrained import TextModel
from genmodels.text.sampling import (
    TokenStep,
    adjust_logits,
    apply_temperature,
    apply_top_k,
    apply_top_p,
    entropy_bits,
    next_token_logits,
    token_surprisals,
)
from genmodels.text.tokenizer import decode, encode, token_texts


@dataclass
class Prompt:
    """A prompt as the model sees it: the start token, then the (left-truncated) text tokens."""
    ids: list[int]  # what the model reads, start token first when it fits
    dropped_tokens: int  # tokens cut from the left to fit the context
    text_tokens: int  # tokens in the full text


def prompt_from_ids(tm: TextModel, ids: list[int]) -> Prompt:
    """Start token plus text ids; keep the last `block_size` of them if there are too many."""
    block = tm.model.config.block_size
    return Prompt(ids[-block:], max(0, len(ids) - block), len(ids) - 1)


def prepare_prompt(tm: TextModel, text: str) -> Prompt:
    """Encode `text` after the start token, left-truncated to the context."""
    return prompt_from_ids(tm, [tm.start_id] + encode(tm.tokenizer, text))


def candidate_rows(tm: TextModel, raw_probs: torch.Tensor, probs: torch.Tensor, kept: torch.Tensor,
                   sampled: int | None, top_n: int) -> list[dict]:
    """The `top_n` most likely tokens under the model (V,) tensors, plus the sampled one, most likely first."""
    order = raw_probs.topk(min(top_n, len(raw_probs))).indices.tolist()  # a partial sort: V is thousands
    if sampled is not None and sampled not in order:
        order.append(sampled)
    picked = torch.tensor(order)
    rows = zip(order, token_texts(tm.tokenizer, order), raw_probs[picked].tolist(), probs[picked].tolist(),
               kept[picked].tolist())
    return [{"id": i, "token": t, "model_prob": p, "adjusted_prob": q, "kept": k, "sampled": i == sampled}
            for i, t, p, q, k in rows]


def nucleus_view(logits: torch.Tensor, temperature: float, top_k: int, top_p: float, top_n: int,
                 max_n: int = 60) -> dict:
    """What top-p sees: the distribution after temperature and top-k, sorted, with its running total; at least
    `top_n` tokens are listed, more (up to `max_n`) when needed to show the token that crosses p."""
    before_top_p = apply_top_k(apply_temperature(logits.float(), temperature), top_k)  # (V,)
    probs = before_top_p.softmax(-1)
    sorted_probs, order = probs.sort(descending=True)
    cumulative = sorted_probs.cumsum(-1)
    crossing = int(torch.isfinite(apply_top_p(before_top_p, top_p)).sum()) - 1  # the last token top-p keeps
    shown = max(top_n, min(crossing + 3, max_n))
    return {"ids": order[:shown].tolist(), "probs": sorted_probs[:shown].tolist(),
            "cumulative": cumulative[:shown].tolist(), "top_p": top_p, "crossing_rank": crossing}


@dataclass
class StepView:
    """One sampling step, ready to show: candidates, entropy and the drawn token."""
    token_id: int
    token: str
    model_prob: float
    adjusted_prob: float
    entropy_bits: float
    model_entropy_bits: float
    candidates_left: int
    candidates: list[dict] = field(default_factory=list)


def view_step(tm: TextModel, step: TokenStep, row: int = 0, top_n: int = 20) -> StepView:
    """Summarize row `row` of a TokenStep."""
    token_id = int(step.token[row])
    token = token_texts(tm.tokenizer, [token_id])[0]
    model_prob, adjusted_prob = step.raw_probs[row, token_id].item(), step.probs[row, token_id].item()
    if top_n:
        candidates = candidate_rows(tm, step.raw_probs[row], step.probs[row], step.kept[row], token_id, top_n)
    else:  # the drawn token alone, from what is read above: a token can only be drawn if it survived the rules
        candidates = [{"id": token_id, "token": token, "model_prob": model_prob, "adjusted_prob": adjusted_prob,
                       "kept": True, "sampled": True}]
    return StepView(token_id=token_id, token=token, model_prob=model_prob, adjusted_prob=adjusted_prob,
                    entropy_bits=step.entropy_bits[row].item(), model_entropy_bits=step.raw_entropy_bits[row].item(),
                    candidates_left=int(step.candidates[row]), candidates=candidates)


def view_settings(tm: TextModel, logits: torch.Tensor, temperature: float, top_k: int, top_p: float,
                  sampled: int | None, top_n: int = 20) -> dict:
    """Re-apply the sampling rules to stored logits (V,) without running the model again."""
    adjusted = adjust_logits(logits.float(), temperature, top_k, top_p)
    probs, raw = adjusted.softmax(-1), logits.float().softmax(-1)
    kept = torch.isfinite(adjusted)
    return {"candidates": candidate_rows(tm, raw, probs, kept, sampled, top_n),
            "entropy_bits": entropy_bits(probs).item(), "model_entropy_bits": entropy_bits(raw).item(),
            "candidates_left": int(kept.sum()), "nucleus": nucleus_view(logits, temperature, top_k, top_p, top_n)}


def next_token_logits_for(tm: TextModel, prompt: Prompt) -> torch.Tensor:
    """The model's next-token logits (V,) on the CPU."""
    return next_token_logits(tm.model, prompt.ids).float().cpu()


def stream_generation(tm: TextModel, prompt: Prompt, max_new_tokens: int, temperature: float, top_k: int,
                      top_p: float, seed: int, batch_size: int = 1, top_n: int = 12):
    """Yield (row views per sequence) after each new token; rows are StepViews of each of `batch_size` samples."""
    generator = make_generator(seed, tm.model.lm_head.weight.device)
    for step in serving.token_steps(tm.model, prompt.ids, max_new_tokens, temperature, top_k, top_p, generator,
                                    batch_size):
        yield [view_step(tm, step, row, top_n) for row in range(batch_size)]


def generate(tm: TextModel, prompt: Prompt, max_new_tokens: int, temperature: float, top_k: int, top_p: float,
             seed: int, batch_size: int = 1, top_n: int = 12) -> tuple[list[list[StepView]], float]:
    """All steps of `batch_size` samples ([sample][step]) and the wall time in seconds."""
    with timer(tm.model.lm_head.weight.device) as elapsed:
        steps = list(stream_generation(tm, prompt, max_new_tokens, temperature, top_k, top_p, seed, batch_size, top_n))
    per_sample = [[rows[b] for rows in steps] for b in range(batch_size)]
    return per_sample, elapsed.seconds


def continuation_text(tm: TextModel, views: list[StepView]) -> str:
    """Decode a sample's tokens together (so multi-byte characters split across tokens join up)."""
    return decode(tm.tokenizer, [v.token_id for v in views])


def score(tm: TextModel, text: str) -> dict:
    """Per-token surprisal -log2 P(token | text before it), and bits per character of the whole text."""
    ids = encode(tm.tokenizer, text)
    bits = token_surprisals(tm.model, ids, tm.start_id).tolist() if ids else []
    total = sum(bits)
    return {"tokens": token_texts(tm.tokenizer, ids), "ids": ids, "surprisal_bits": bits,
            "total_bits": total, "characters": len(text), "bits_per_char": total / len(text) if text else 0.0,
            "bits_per_token": total / len(ids) if ids else 0.0}
