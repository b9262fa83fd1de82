"""The text family's requests and results: every limit, every check, and the functions the page and the API share.

A request is built from named values (`NextTokenRequest.build(prompt=..., temperature=...)`), which validates
them against LIMITS or raises RequestError; the family's function takes the request and returns a result; the API
sends `result.to_json()`, the page draws the result.
"""
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace

import torch

from genmodels import serving
from genmodels.checkpoint import CheckpointError
from genmodels.errors import RequestError
from genmodels.runtime import make_generator, timer
from genmodels.text import explain
from genmodels.text.pretrained import TextModel, load_text_model
from genmodels.text.sampling import sampling_step
from genmodels.text.tokenizer import encode
from genmodels.validation import SEED, Bound, Text

LIMITS = {
    "prompt": Text("Prompt"),
    "text": Text("Text"),
    "temperature": Bound("Temperature", 0, 2),
    "top_k": Bound("Top-k", 0, math.inf, integer=True),  # up to the vocabulary size: `Sampling.build` narrows it
    "top_p": Bound("Top-p", 0, 1),
    "seed": SEED,
    "max_new_tokens": Bound("Tokens to generate", 1, 400, integer=True),
    "count": Bound("Number of continuations", 2, 8, integer=True),
    "continuation_tokens": Bound("Tokens per continuation", 1, 200, integer=True),
    "token": Bound("Token", 1, 400, integer=True),  # a generated token to inspect (1-based)
}
MAX_NEW_TOKENS = LIMITS["max_new_tokens"].high
MAX_CONTINUATIONS = LIMITS["count"].high
MAX_CONTINUATION_TOKENS = LIMITS["continuation_tokens"].high


def text_model() -> TextModel:
    """The shared text model, or a RequestError saying which file is missing and how to re-create it."""
    try:
        return load_text_model()
    except (CheckpointError, FileNotFoundError) as err:
        raise RequestError(f"The text model is unavailable: {err}") from None


@dataclass(frozen=True)
class Sampling:
    """How each token is drawn: temperature, then top-k, then top-p, from a generator seeded with `seed`."""
    temperature: float
    top_k: int
    top_p: float
    seed: int

    @classmethod
    def build(cls, temperature=0.8, top_k=0, top_p=0.95, seed=0, vocab_size: int | None = None) -> "Sampling":
        """Validated sampling settings; top-k is bounded by `vocab_size` (the text model's when None)."""
        vocab_size = text_model().model.config.vocab_size if vocab_size is None else vocab_size
        top_p = LIMITS["top_p"].check(top_p)
        if top_p == 0:
            raise RequestError("Top-p must be greater than 0: it keeps the smallest set of tokens whose probability "
                               "reaches p.")
        return cls(temperature=LIMITS["temperature"].check(temperature),
                   top_k=LIMITS["top_k"].check(top_k, high=vocab_size), top_p=top_p, seed=LIMITS["seed"].check(seed))


@dataclass(frozen=True)
class NextTokenRequest:
    """Draw one token after `prompt`; `ids` are the tokens a text drawn here was made of (re-encoding it could
    merge tokens differently), None to encode the prompt."""
    prompt: str
    sampling: Sampling
    ids: tuple[int, ...] | None = None

    @classmethod
    def build(cls, prompt="", temperature=0.8, top_k=0, top_p=0.95, seed=0, ids=None) -> "NextTokenRequest":
        return cls(LIMITS["prompt"].check(prompt), Sampling.build(temperature, top_k, top_p, seed),
                   None if ids is None else tuple(ids))


@dataclass(frozen=True)
class GenerateRequest:
    """Up to `max_new_tokens` tokens after `prompt`; each token keeps its `top_n` most likely candidates."""
    prompt: str
    max_new_tokens: int
    sampling: Sampling
    top_n: int = 0

    @classmethod
    def build(cls, prompt="", max_new_tokens=200, temperature=0.8, top_k=0, top_p=0.95, seed=0,
              top_n: int = 0) -> "GenerateRequest":
        return cls(LIMITS["prompt"].check(prompt), LIMITS["max_new_tokens"].check(max_new_tokens),
                   Sampling.build(temperature, top_k, top_p, seed), top_n)


@dataclass(frozen=True)
class ContinuationsRequest:
    """`count` continuations of one prompt, sample i drawn with seed + i."""
    prompt: str
    count: int
    max_new_tokens: int
    sampling: Sampling

    @classmethod
    def build(cls, prompt="", count=4, max_new_tokens=60, temperature=0.8, top_k=0, top_p=0.95,
              seed=0) -> "ContinuationsRequest":
        return cls(LIMITS["prompt"].check(prompt), LIMITS["count"].check(count),
                   LIMITS["continuation_tokens"].check(max_new_tokens), Sampling.build(temperature, top_k, top_p, seed))


@dataclass(frozen=True)
class ScoreRequest:
    """Score every token of `text`."""
    text: str

    @classmethod
    def build(cls, text="") -> "ScoreRequest":
        text = LIMITS["text"].check(text)
        if not text:
            raise RequestError("Type or paste some text to score.")
        return cls(text)


def prompt_note(prompt: explain.Prompt, block_size: int) -> str:
    """A sentence saying that the prompt was cut to fit the context, or an empty string."""
    if not prompt.dropped_tokens:
        return ""
    return (f"The prompt is {prompt.text_tokens} tokens; the model reads at most {block_size}, "
            f"so the first {prompt.dropped_tokens} were dropped.")


@dataclass(frozen=True)
class NextTokenResult:
    """The drawn token with the candidates it was drawn from; `logits` (V,) and `ids` let the page redraw and go on."""
    text: str
    view: explain.StepView
    prompt_tokens: int
    dropped_tokens: int
    note: str
    logits: torch.Tensor
    ids: tuple[int, ...]

    def to_json(self) -> dict:
        return {"text": self.text, **asdict(self.view), "prompt_tokens": self.prompt_tokens,
                "dropped_tokens": self.dropped_tokens, "note": self.note}


def next_token(request: NextTokenRequest) -> NextTokenResult:
    """Draw one next token; the generator is seeded with seed + prompt tokens, so successive draws with one seed
    do not reuse the same random number."""
    tm = text_model()
    ids = list(request.ids) if request.ids is not None else [tm.start_id] + encode(tm.tokenizer, request.prompt)
    prepared = explain.prompt_from_ids(tm, ids)
    logits = explain.next_token_logits_for(tm, prepared)  # (V,)
    s = request.sampling
    step = sampling_step(logits[None], s.temperature, s.top_k, s.top_p, make_generator(s.seed + prepared.text_tokens))
    view = explain.view_step(tm, step, 0, top_n=20)
    return NextTokenResult(text=request.prompt + view.token, view=view, prompt_tokens=prepared.text_tokens,
                           dropped_tokens=prepared.dropped_tokens,
                           note=prompt_note(prepared, tm.model.config.block_size), logits=logits,
                           ids=(*ids, view.token_id))


@dataclass(frozen=True)
class GenerationResult:
    """A finished generation: the completion and every token's view (with its candidates when asked for)."""
    prompt: str
    completion: str
    views: list[explain.StepView]
    seconds: float
    dropped_tokens: int
    note: str

    def to_json(self) -> dict:
        tokens = [{k: v for k, v in asdict(view).items() if k != "candidates"} for view in self.views]
        return {"prompt": self.prompt, "completion": self.completion, "tokens": tokens, "seconds": self.seconds,
                "tokens_per_second": len(self.views) / self.seconds if self.seconds else None,
                "dropped_tokens": self.dropped_tokens, "note": self.note}


def generation_note(request: GenerateRequest) -> str:
    """The prompt note of a generation, known before its first token."""
    tm = text_model()
    return prompt_note(explain.prepare_prompt(tm, request.prompt), tm.model.config.block_size)


def stream_text(request: GenerateRequest):
    """Yield the StepView of each new token as it is drawn."""
    tm, s = text_model(), request.sampling
    prepared = explain.prepare_prompt(tm, request.prompt)
    for rows in explain.stream_generation(tm, prepared, request.max_new_tokens, s.temperature, s.top_k, s.top_p,
                                          s.seed, top_n=request.top_n):
        yield rows[0]


def generate_text(request: GenerateRequest) -> GenerationResult:
    """The whole generation at once (stream_text drained), timed."""
    tm = text_model()
    with timer(tm.model.lm_head.weight.device) as elapsed:
        views = list(stream_text(request))
    prepared = explain.prepare_prompt(tm, request.prompt)  # for the note: the prompt is encoded once more, not twice
    return GenerationResult(prompt=request.prompt, completion=explain.continuation_text(tm, views), views=views,
                            seconds=elapsed.seconds, dropped_tokens=prepared.dropped_tokens,
                            note=prompt_note(prepared, tm.model.config.block_size))


@dataclass(frozen=True)
class ContinuationsResult:
    prompt: str
    samples: list[dict] = field(default_factory=list)  # seed, text, tokens, mean_surprisal_bits, seconds
    dropped_tokens: int = 0
    note: str = ""

    def to_json(self) -> dict:
        return asdict(self)


def mean_surprisal_bits(views: list[explain.StepView]) -> float:
    """The average -log2 p of the drawn tokens under the model."""
    return sum(-math.log2(max(v.model_prob, 1e-30)) for v in views) / len(views)


def continuations(request: ContinuationsRequest) -> ContinuationsResult:
    """Each sample is generate_text with seed + i, so it can be reproduced alone; with batching on they are drawn
    at once, as rows of the engine's ticks."""
    requests = [GenerateRequest(request.prompt, request.max_new_tokens,
                                replace(request.sampling, seed=request.sampling.seed + i)) for i in range(request.count)]
    workers = request.count if serving.batching_enabled() else 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(generate_text, requests))
    samples = []
    for one, result in zip(requests, results):
        samples.append({"seed": one.sampling.seed, "text": result.completion, "tokens": len(result.views),
                        "mean_surprisal_bits": mean_surprisal_bits(result.views), "seconds": result.seconds})
    return ContinuationsResult(prompt=request.prompt, samples=samples, dropped_tokens=result.dropped_tokens,
                               note=result.note)


@dataclass(frozen=True)
class ScoreResult:
    """Each token's surprisal in bits and the text's totals."""
    tokens: list[str]
    ids: list[int]
    surprisal_bits: list[float]
    total_bits: float
    characters: int
    bits_per_char: float
    bits_per_token: float

    def to_json(self) -> dict:
        return asdict(self)


def score_text(request: ScoreRequest) -> ScoreResult:
    """Per-token surprisal (-log2 p) of the text under the model and its bits per character."""
    return ScoreResult(**explain.score(text_model(), request.text))
