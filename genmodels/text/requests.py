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
from genmodels.text import explain, inside
from genmodels.text.pretrained import TextModel, load_text_model
from genmodels.text.sampling import sampling_step
from genmodels.text.tokenizer import encode, token_texts
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
    "layer": Bound("Layer", 1, math.inf, integer=True),  # up to the model's blocks: `InsideRequest.build` narrows it
    "head": Bound("Head", 1, math.inf, integer=True),  # up to the model's heads per block, the same way
    "top_n": Bound("Candidates per layer", 1, 20, integer=True),
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


@dataclass(frozen=True)
class InsideRequest:
    """Look inside the model reading `prompt`: block `layer`'s head `head` (1-based) in full, and the logit lens's
    `top_n` most likely tokens after each block."""
    prompt: str
    layer: int = 1
    head: int = 1
    top_n: int = 5

    @classmethod
    def build(cls, prompt="", layer=1, head=1, top_n=5) -> "InsideRequest":
        config = text_model().model.config
        return cls(LIMITS["prompt"].check(prompt), LIMITS["layer"].check(layer, high=config.n_layer),
                   LIMITS["head"].check(head, high=config.n_head), LIMITS["top_n"].check(top_n))


@dataclass(frozen=True)
class InsideResult:
    """The prompt's tokens as the model reads them, every block's attention, the logit lens and the data flow."""
    request: InsideRequest
    ids: list[int]
    tokens: list[str]
    attention: torch.Tensor  # (L, H, T, T)
    lens: list[dict]  # per read-out (the embedding, then each block): its top tokens and the model's pick there
    flow: list[dict]
    dropped_tokens: int
    note: str

    def common_json(self) -> dict:
        return {"tokens": self.tokens, "ids": self.ids, "dropped_tokens": self.dropped_tokens, "note": self.note}

    def attention_json(self) -> dict:
        """Every head's attention from the last token, the chosen head's whole matrix, and the data flow."""
        layer, head = self.request.layer, self.request.head
        return {**self.common_json(), "layer": layer, "head": head,
                "last_token": self.attention[:, :, -1].tolist(),  # [layer][head][token]
                "matrix": self.attention[layer - 1, head - 1].tolist(),  # [query token][key token]
                "flow": self.flow}

    def lens_json(self) -> dict:
        return {**self.common_json(), "top_n": self.request.top_n, "layers": self.lens}


def lens_rows(tm: TextModel, found: inside.Inside, top_n: int) -> list[dict]:
    """Each read-out of the logit lens: its `top_n` tokens, and the probability and rank of the model's own pick."""
    probs = found.lens_logits.softmax(-1)  # (L + 1, V)
    top = probs.topk(top_n)
    pick = int(found.logits.argmax())
    pick_token = token_texts(tm.tokenizer, [pick])[0]
    pick_probs, pick_ranks = inside.lens_ranks(found.lens_logits, pick)
    names = ["embedding"] + [f"block {layer}" for layer in range(1, len(probs))]
    return [{"after": name, "candidates": [{"id": i, "token": t, "prob": p} for i, t, p in
                                           zip(ids, token_texts(tm.tokenizer, ids), values)],
             "pick": {"id": pick, "token": pick_token, "prob": p, "rank": r}}
            for name, ids, values, p, r in zip(names, top.indices.tolist(), top.values.tolist(), pick_probs.tolist(),
                                                pick_ranks.tolist())]


def look_inside(request: InsideRequest) -> InsideResult:
    """One forward over the prompt (left-truncated to the context), read from inside."""
    tm = text_model()
    prepared = explain.prepare_prompt(tm, request.prompt)
    found = inside.look_inside(tm.model, prepared.ids)
    return InsideResult(request=request, ids=prepared.ids, tokens=token_texts(tm.tokenizer, prepared.ids),
                        attention=found.attention, lens=lens_rows(tm, found, request.top_n),
                        flow=inside.data_flow(tm.model, len(prepared.ids)), dropped_tokens=prepared.dropped_tokens,
                        note=prompt_note(prepared, tm.model.config.block_size))
