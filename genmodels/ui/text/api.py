"""The text family's JSON endpoints: build the request from the named arguments, call the family, send the result."""
import gradio as gr

from genmodels.serving import ENGINE_CONCURRENCY
from genmodels.text import requests as family
from genmodels.ui.hosting import QUICK, TEXT, on_gpu


@on_gpu(QUICK)
def next_token(prompt: str = "", temperature: float = 0.8, top_k: int = 0, top_p: float = 0.95,
               seed: int = 0) -> dict:
    """Draw one next token for `prompt` and return the candidates it was drawn from."""
    request = family.NextTokenRequest.build(prompt=prompt, temperature=temperature, top_k=top_k, top_p=top_p,
                                            seed=seed)
    return family.next_token(request).to_json()


@on_gpu(TEXT)
def generate_text(prompt: str = "", max_new_tokens: int = 200, temperature: float = 0.8, top_k: int = 0,
                  top_p: float = 0.95, seed: int = 0) -> dict:
    """Generate up to 400 tokens after `prompt`; returns the completion and every token's probabilities."""
    request = family.GenerateRequest.build(prompt=prompt, max_new_tokens=max_new_tokens, temperature=temperature,
                                           top_k=top_k, top_p=top_p, seed=seed)
    return family.generate_text(request).to_json()


@on_gpu(TEXT)
def continuations(prompt: str = "", count: int = 4, max_new_tokens: int = 60, temperature: float = 0.8,
                  top_k: int = 0, top_p: float = 0.95, seed: int = 0) -> dict:
    """`count` continuations of one prompt, sample i drawn with seed + i (so each is reproducible alone)."""
    request = family.ContinuationsRequest.build(prompt=prompt, count=count, max_new_tokens=max_new_tokens,
                                                temperature=temperature, top_k=top_k, top_p=top_p, seed=seed)
    return family.continuations(request).to_json()


@on_gpu(QUICK)
def score_text(text: str) -> dict:
    """Per-token surprisal (-log2 p) of `text` under the model and its bits per character."""
    return family.score_text(family.ScoreRequest.build(text=text)).to_json()


@on_gpu(QUICK)
def attention(prompt: str = "", layer: int = 1, head: int = 1) -> dict:
    """The prompt's tokens, every head's attention from the last token, block `layer`'s head `head` (1-based) in full,
    and the forward pass's shapes and parameters."""
    request = family.InsideRequest.build(prompt=prompt, layer=layer, head=head)
    return family.look_inside(request).attention_json()


@on_gpu(QUICK)
def logit_lens(prompt: str = "", top_n: int = 5) -> dict:
    """The `top_n` most likely next tokens read out after the embedding and after each block; the last read-out is
    the model's own distribution."""
    return family.look_inside(family.InsideRequest.build(prompt=prompt, top_n=top_n)).lens_json()


def register_api() -> None:
    """Expose the text functions as API endpoints (call inside a gr.Blocks context)."""
    for fn in (next_token, generate_text, continuations, score_text, attention, logit_lens):
        gr.api(fn, api_name=fn.__name__, concurrency_limit=ENGINE_CONCURRENCY)
