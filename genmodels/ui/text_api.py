"""The text family's public API (`next_token`, `generate_text`, `continuations`, `score_text`): JSON in, JSON out.

Each function validates its inputs (a clear gr.Error otherwise) and is registered with gr.api,
so gradio_client callers get plain dicts. The UI handlers reuse the same checks.
"""
import math
from dataclasses import asdict

import gradio as gr

from genmodels.checkpoint import CheckpointError
from genmodels.runtime import make_generator
from genmodels.text import explain
from genmodels.text.pretrained import TextModel, load_text_model
from genmodels.text.sampling import sampling_step
from genmodels.ui import validate
from genmodels.ui.hosting import QUICK, TEXT, on_gpu

MAX_NEW_TOKENS = 400
MAX_CONTINUATIONS = 8
MAX_CONTINUATION_TOKENS = 200


def text_model() -> TextModel:
    """The shared text model, or a gr.Error saying which file is missing and how to re-create it."""
    try:
        return load_text_model()
    except (CheckpointError, FileNotFoundError) as err:
        raise gr.Error(f"The text model is unavailable: {err}") from None


def check_sampling(temperature, top_k, top_p, seed, vocab_size: int) -> tuple[float, int, float, int]:
    """Validated (temperature, top_k, top_p, seed)."""
    temperature = validate.number(temperature, "Temperature", 0, 2)
    top_k = validate.number(top_k, "Top-k", 0, vocab_size, integer=True)
    top_p = validate.number(top_p, "Top-p", 0, 1)
    if top_p == 0:
        raise gr.Error("Top-p must be greater than 0: it keeps the smallest set of tokens whose probability reaches p.")
    return temperature, top_k, top_p, validate.seed(seed)


def prompt_note(prompt: explain.Prompt, block_size: int) -> str:
    """A sentence saying that the prompt was cut to fit the context, or an empty string."""
    if not prompt.dropped_tokens:
        return ""
    return (f"The prompt is {prompt.text_tokens} tokens; the model reads at most {block_size}, "
            f"so the first {prompt.dropped_tokens} were dropped.")


@on_gpu(QUICK)
def next_token(prompt: str = "", temperature: float = 0.8, top_k: int = 0, top_p: float = 0.95,
               seed: int = 0) -> dict:
    """Draw one next token for `prompt` and return the candidates it was drawn from."""
    tm = text_model()
    prompt_text = validate.text(prompt, "Prompt")
    temperature, top_k, top_p, seed = check_sampling(temperature, top_k, top_p, seed, tm.model.config.vocab_size)
    prepared = explain.prepare_prompt(tm, prompt_text)
    logits = explain.next_token_logits_for(tm, prepared)
    view = draw_next(tm, logits, temperature, top_k, top_p, seed, prepared.text_tokens)
    return {"text": prompt_text + view.token, **asdict(view), "prompt_tokens": prepared.text_tokens,
            "dropped_tokens": prepared.dropped_tokens, "note": prompt_note(prepared, tm.model.config.block_size)}


def draw_next(tm: TextModel, logits, temperature: float, top_k: int, top_p: float, seed: int,
              prompt_tokens: int) -> explain.StepView:
    """Sample from logits (V,); the generator is seeded with seed + prompt tokens, so successive
    clicks with one seed do not reuse the same random number."""
    generator = make_generator(seed + prompt_tokens)
    step = sampling_step(logits[None], temperature, top_k, top_p, generator)
    return explain.view_step(tm, step, 0, top_n=20)


@on_gpu(TEXT)
def generate_text(prompt: str = "", max_new_tokens: int = 200, temperature: float = 0.8, top_k: int = 0,
                  top_p: float = 0.95, seed: int = 0) -> dict:
    """Generate up to 400 tokens after `prompt`; returns the completion and every token's probabilities."""
    tm = text_model()
    prompt_text = validate.text(prompt, "Prompt")
    max_new_tokens = validate.number(max_new_tokens, "Tokens to generate", 1, MAX_NEW_TOKENS, integer=True)
    temperature, top_k, top_p, seed = check_sampling(temperature, top_k, top_p, seed, tm.model.config.vocab_size)
    prepared = explain.prepare_prompt(tm, prompt_text)
    (views,), seconds = explain.generate(tm, prepared, max_new_tokens, temperature, top_k, top_p, seed, top_n=0)
    return {"prompt": prompt_text, "completion": explain.continuation_text(tm, views),
            "tokens": [token_record(v) for v in views], "seconds": seconds,
            "tokens_per_second": len(views) / seconds if seconds else None,
            "dropped_tokens": prepared.dropped_tokens, "note": prompt_note(prepared, tm.model.config.block_size)}


def token_record(view: explain.StepView) -> dict:
    """A generated token without its candidate list."""
    return {k: v for k, v in asdict(view).items() if k != "candidates"}


@on_gpu(TEXT)
def continuations(prompt: str = "", count: int = 4, max_new_tokens: int = 60, temperature: float = 0.8,
                  top_k: int = 0, top_p: float = 0.95, seed: int = 0) -> dict:
    """`count` continuations of one prompt, sample i drawn with seed + i (so each is reproducible alone)."""
    tm = text_model()
    prompt_text = validate.text(prompt, "Prompt")
    count = validate.number(count, "Number of continuations", 2, MAX_CONTINUATIONS, integer=True)
    max_new_tokens = validate.number(max_new_tokens, "Tokens per continuation", 1, MAX_CONTINUATION_TOKENS,
                                     integer=True)
    temperature, top_k, top_p, seed = check_sampling(temperature, top_k, top_p, seed, tm.model.config.vocab_size)
    prepared = explain.prepare_prompt(tm, prompt_text)
    samples = []
    for i in range(count):
        (views,), seconds = explain.generate(tm, prepared, max_new_tokens, temperature, top_k, top_p, seed + i, top_n=0)
        bits = [-math.log2(max(v.model_prob, 1e-30)) for v in views]
        samples.append({"seed": seed + i, "text": explain.continuation_text(tm, views), "tokens": len(views),
                        "mean_surprisal_bits": sum(bits) / len(bits), "seconds": seconds})
    return {"prompt": prompt_text, "samples": samples, "dropped_tokens": prepared.dropped_tokens,
            "note": prompt_note(prepared, tm.model.config.block_size)}


@on_gpu(QUICK)
def score_text(text: str) -> dict:
    """Per-token surprisal (-log2 p) of `text` under the model and its bits per character."""
    tm = text_model()
    text_value = validate.text(text, "Text")
    if not text_value:
        raise gr.Error("Type or paste some text to score.")
    return explain.score(tm, text_value)


def register_api() -> None:
    """Expose the four functions as API endpoints (call inside a gr.Blocks context)."""
    for fn in (next_token, generate_text, continuations, score_text):
        gr.api(fn, api_name=fn.__name__, concurrency_limit=4)
