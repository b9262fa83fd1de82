"""The text tab's page handlers: build the family's request from the widgets, call it, draw the result."""
import html
from dataclasses import asdict, replace

import gradio as gr

from genmodels.text import explain
from genmodels.text import requests as family
from genmodels.text.tokenizer import END_OF_TEXT, token_texts
from genmodels.ui import plots
from genmodels.ui.text import plots as inside_plots
from genmodels.ui.hosting import QUICK, TEXT, answers, on_gpu

PROBABILITY_BINS = [(0.5, "p ≥ 50%"), (0.1, "10–50%"), (0.01, "1–10%"), (0.0, "p < 1%")]
SURPRISAL_BINS = [(8.0, "≥ 8 bits"), (4.0, "4–8 bits"), (1.0, "1–4 bits"), (0.0, "< 1 bit")]
# Okabe-Ito colors: likely tokens cool, unlikely warm; readable with color-vision deficiencies.
PROBABILITY_COLORS = {"p ≥ 50%": "#56B4E9", "10–50%": "#009E73", "1–10%": "#E69F00", "p < 1%": "#D55E00"}
SURPRISAL_COLORS = {"< 1 bit": "#56B4E9", "1–4 bits": "#009E73", "4–8 bits": "#E69F00", "≥ 8 bits": "#D55E00"}
# The generated token being inspected takes its own label, in a color no probability bin uses (demo.CSS outlines it).
INSPECTED = "inspected below"
GENERATED_COLORS = PROBABILITY_COLORS | {INSPECTED: "#CC79A7"}
STREAM_EVERY = 4  # tokens between UI refreshes while generating
SHOWN_CANDIDATES = 15  # candidates kept per generated token for the inspector
START_MARKER = "⟨start of text⟩ "
NO_STEP = "Press **Next token** to see the model's next-token distribution."


def probability_label(p: float) -> str:
    return next(label for low, label in PROBABILITY_BINS if p >= low)


def surprisal_label(bits: float) -> str:
    return next(label for low, label in SURPRISAL_BINS if bits >= low)


def stats_markdown(view: dict, note: str = "") -> str:
    """Entropy, candidates left and the drawn token as a short Markdown summary."""
    # max(0, .): one token left has entropy 0, which rounding error can print as -0.00
    lines = [f"**Entropy** of the model's distribution: {view['model_entropy_bits']:.2f} bits; after the sliders: "
             f"{max(0.0, view['entropy_bits']):.2f} bits. **Candidates left:** {view['candidates_left']:,}."]
    if view.get("token") is not None:
        lines.append(f"**Drawn:** `{plots.show_token(view['token'])}` (model {view['model_prob']:.1%}, "
                     f"after the sliders {view['adjusted_prob']:.1%}).")
    if note:
        lines.append(f"_{note}_")
    return "  \n".join(lines)


@on_gpu(QUICK)
def on_next_token(prompt, temperature, top_k, top_p, seed, state):
    """Draw one token, append it to the prompt, and show the distribution it came from."""
    continues = state and state.get("text") == prompt  # keep the drawn ids of a text drawn here
    request = family.NextTokenRequest.build(prompt=prompt, temperature=temperature, top_k=top_k, top_p=top_p,
                                            seed=seed, ids=state["ids"] if continues else None)
    result = family.next_token(request)
    view = result.view
    state = {"text": result.text, "ids": list(result.ids), "logits": result.logits, "sampled": view.token_id,
             "token": view.token, "model_prob": view.model_prob, "note": result.note}
    return result.text, state, *redraw(temperature, top_k, top_p, state)


def on_example_step(prompt, temperature, top_k, top_p, seed):
    """One Next token step for the initial prompt that leaves the prompt as it is: what the tab opens on."""
    _, state, distribution, cumulative, stats = on_next_token(prompt, temperature, top_k, top_p, seed, None)
    note = "_An example step for the prompt above, not added to it: press **Next token** to draw one yourself._"
    return state, distribution, cumulative, f"{stats}  \n{note}"


@answers
def redraw(temperature, top_k, top_p, state):
    """Re-apply the sliders to the stored logits of the last step (the model does not run again)."""
    if not state or state.get("logits") is None:
        return gr.skip(), gr.skip(), NO_STEP
    sampling = family.Sampling.build(temperature, top_k, top_p)
    tm = family.text_model()
    view = explain.view_settings(tm, state["logits"], sampling.temperature, sampling.top_k, sampling.top_p,
                                 state["sampled"])
    sampled_row = next(c for c in view["candidates"] if c["sampled"])
    summary = {**view, "token": state["token"], "model_prob": state["model_prob"],
               "adjusted_prob": sampled_row["adjusted_prob"]}
    note = state["note"]
    if not sampled_row["kept"]:
        note = (note + " " if note else "") + "With these settings the drawn token would have been removed."
    nucleus = view["nucleus"]
    cumulative = plots.cumulative_figure(token_texts(tm.tokenizer, nucleus["ids"]), nucleus["probs"],
                                         nucleus["cumulative"], nucleus["top_p"], nucleus["crossing_rank"])
    return plots.distribution_figure(view["candidates"]), cumulative, stats_markdown(summary, note)


def on_reset_next_token():
    """Forget the stored step."""
    return None, None, None, NO_STEP


@on_gpu(TEXT)
def on_generate(prompt, max_new_tokens, temperature, top_k, top_p, seed):
    """Stream up to 400 tokens, colored by probability; keep every step's candidates for inspection."""
    request = family.GenerateRequest.build(prompt=prompt, max_new_tokens=max_new_tokens, temperature=temperature,
                                           top_k=top_k, top_p=top_p, seed=seed, top_n=SHOWN_CANDIDATES)
    note = family.generation_note(request)
    views, steps = [], []  # steps: every drawn token with its candidates, kept in the session for inspection
    for view in family.stream_text(request):
        views.append(view)
        steps.append(asdict(view))
        if len(views) % STREAM_EVERY == 0 and len(views) < request.max_new_tokens:  # Stop keeps what came so far
            yield (highlighted(request.prompt, steps), generation_summary(views, note), steps,
                   gr.Slider(maximum=max(2, len(views)), interactive=True), gr.skip(), gr.skip())
    yield (highlighted(request.prompt, steps, inspected=1), generation_summary(views, note), steps,
           gr.Slider(minimum=1, maximum=max(2, len(views)), value=1, step=1, interactive=True),
           *on_pick_token(1, steps, None)[1:])


def highlighted(prompt_text: str, steps: list[dict], inspected: int = 0) -> list[tuple[str, str | None]]:
    """The prompt unmarked (an empty one shown as the start marker, so token i is always segment i), then each
    generated token labelled by its probability bin, except token `inspected` (1-based), labelled as inspected."""
    return [(prompt_text or START_MARKER, None)] + [
        (s["token"], INSPECTED if i == inspected else probability_label(s["model_prob"]))
        for i, s in enumerate(steps, 1)]


def generation_summary(views: list[explain.StepView], note: str) -> str:
    """Token count and the average surprisal of the generated tokens."""
    text = (f"**{len(views)} tokens**, average surprisal {family.mean_surprisal_bits(views):.2f} bits per token "
            "under the model. Pick a token (click it, or use the slider) to see the distribution it was drawn from.")
    return text + (f"  \n_{note}_" if note else "")


@answers
def on_pick_token(index, steps, shown):
    """The distribution that generated token `index` (1-based) was drawn from, and the generated text `shown` (as
    the page holds it: one {"token", "class_or_confidence"} per segment) with that token marked."""
    if not steps:
        return gr.skip(), gr.skip(), "Generate some text first."
    index = min(family.LIMITS["token"].check(index), len(steps))
    step = steps[index - 1]
    marked = highlighted(shown[0]["token"], steps, inspected=index) if shown else gr.skip()
    return marked, plots.distribution_figure(step["candidates"], f"Token {index}: {plots.show_token(step['token'])}"), \
        stats_markdown(step)


def on_select_token(steps, shown, evt: gr.SelectData):
    """Clicking a generated token moves the token slider to it (the prompt segment is index 0), marks it and shows
    its distribution."""
    index = evt.index if isinstance(evt.index, int) else evt.index[0]
    if not steps or index < 1:
        return (gr.skip(),) * 4
    index = min(index, len(steps))
    return index, *on_pick_token(index, steps, shown)


@on_gpu(TEXT)
def on_continuations(prompt, count, max_new_tokens, temperature, top_k, top_p, seed) -> str:
    """Side-by-side cards of several continuations, one seed each."""
    request = family.ContinuationsRequest.build(prompt=prompt, count=count, max_new_tokens=max_new_tokens,
                                                temperature=temperature, top_k=top_k, top_p=top_p, seed=seed)
    result = family.continuations(request)
    cards = "".join(
        f'<div class="gm-card"><div class="gm-card-head">seed {s["seed"]} · {s["mean_surprisal_bits"]:.2f} bits/token'
        f'</div><pre>{html.escape(s["text"])}</pre></div>' for s in result.samples)
    note = f'<p class="gm-note">{html.escape(result.note)}</p>' if result.note else ""
    return f'{note}<div class="gm-cards">{cards}</div>'


@on_gpu(QUICK)
def on_score(text):
    """Surprisal heat map, per-token chart and bits per character of a text."""
    result = family.score_text(family.ScoreRequest.build(text=text))
    marks = [(t, surprisal_label(b)) for t, b in zip(result.tokens, result.surprisal_bits)]
    summary = (f"**{result.bits_per_char:.3f} bits per character** ({result.total_bits:.1f} bits over "
               f"{result.characters:,} characters, {len(result.tokens)} tokens, "
               f"{result.bits_per_token:.2f} bits per token). Lower means the model found the text more "
               "predictable; training minimizes exactly this quantity (in nats) on the training plays.")
    return marks, plots.surprisal_figure(result.tokens, result.surprisal_bits), summary


@on_gpu(QUICK)
def on_inside(prompt, layer, head, state):
    """One forward over the prompt, read from inside: the data flow, the tokens, every head's attention, the logit
    lens. A prompt already shown is not run again (selecting the tab twice costs nothing)."""
    if state is not None and state.request.prompt == prompt:
        return [gr.skip()] * 7
    result = family.look_inside(family.InsideRequest.build(prompt=prompt, layer=layer, head=head))
    labels = inside_plots.token_labels(result.tokens, END_OF_TEXT)
    pick = result.lens[-1]["pick"]
    first = next(row["after"] for row in result.lens if row["pick"]["rank"] == 1)
    summary = (f"Reading **{len(result.ids)} tokens**, the model's most likely next token is "
               f"`{inside_plots.token_labels([pick['token']], END_OF_TEXT)[0]}` ({pick['prob']:.0%}); it first comes "
               f"out on top in the logit lens at: **{first}**." + (f"  \n_{result.note}_" if result.note else ""))
    return (result, summary, inside_plots.flow_html(result.flow), inside_plots.tokens_html(labels, result.ids),
            *on_head(layer, head, result), inside_plots.lens_html(result.lens, END_OF_TEXT))


@answers
def on_head(layer, head, state):
    """Every head's attention from the last token, and the chosen head's whole matrix (the model does not run)."""
    if state is None:
        return gr.skip(), gr.skip()
    request = family.InsideRequest.build(prompt=state.request.prompt, layer=layer, head=head)
    view = replace(state, request=request).attention_json()
    labels = inside_plots.token_labels(view["tokens"], END_OF_TEXT)
    return (inside_plots.heads_figure(labels, view["last_token"], request.layer, request.head),
            inside_plots.matrix_figure(labels, view["matrix"], request.layer, request.head))
