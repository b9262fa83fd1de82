"""The own-text sub-tab's page handlers: train a tiny GPT on the visitor's text, then sample it and score with it.

Each browser session keeps its OwnTextSession (its model) in gr.State; the handlers build the family's requests from
the widgets, call the shared functions of genmodels.owntext.requests, and draw their results.
"""
import math
from dataclasses import asdict

import gradio as gr

from genmodels.errors import RequestError
from genmodels.owntext import requests as family
from genmodels.owntext.corpus import Corpus
from genmodels.owntext.sessions import OwnTextSession
from genmodels.ui import plots
from genmodels.ui.hosting import answers
from genmodels.ui.text.views import highlighted, stats_markdown, surprisal_label


def session_of(session) -> OwnTextSession:
    """The session's own-text state, made at its first use."""
    return session if isinstance(session, OwnTextSession) else OwnTextSession()


def bits_figure(history: dict, uniform_bits: float):
    """Bits per character on the training part and on the held-out part, against training steps."""
    log = {"train": {"step": history["step"], "loss": history["train_bpc"]},
           "val": {"step": history["step"], "loss": history["heldout_bpc"]}}
    fig = plots.loss_curves_figure(log, title="Bits per character as it trains", y_title="bits per character",
                                   val_name="held-out part")
    fig.add_hline(y=uniform_bits, line_dash="dot", line_color=plots.GREY,
                  annotation_text="a uniform guess", annotation_position="top right")
    return fig


def train_markdown(result: dict) -> str:
    """Where a training stands, in a few words."""
    lines = [f"**Step {result['step']:,}** after {result['seconds']:.1f} s: **{result['train_bpc']:.2f} bits per "
             f"character** on the {result['train_chars']:,} training characters, **{result['heldout_bpc']:.2f}** on "
             f"the {result['heldout_chars']:,} held out (a uniform guess over its {len(result['vocabulary'])} "
             f"characters costs {math.log2(len(result['vocabulary'])):.2f})."]
    if result["note"]:
        lines.append(f"_{result['note']}_")
    return "  \n".join(lines)


def shown_training(result: dict):
    """The training's summary, chart, latest sample and raw numbers."""
    uniform = math.log2(len(result["vocabulary"]))
    return train_markdown(result), bits_figure(result["history"], uniform), result["sample"], result


@answers
def on_train(text, seconds, seed, session):
    """Train a new model on the text, redrawing the chart and the sample every couple of seconds."""
    session = session_of(session)
    request = family.TrainRequest.build(text=text, seconds=seconds, seed=seed)
    for result in family.train_text(session, request):
        yield session, *shown_training(result.to_json())


@answers
def on_untrained(text, seed):
    """The model before any step (what a visitor finds on arrival): its chart's first point and its random
    characters."""
    session = OwnTextSession()
    result = list(family.train_text(session, family.TrainRequest.build(text=text, seconds=1, seed=seed),
                                    max_steps=0))[-1].to_json()
    result["note"] = "Untrained: every character about equally likely. Press **Train** to watch it learn your text."
    return shown_training(result)


@answers
def on_sample(prompt, max_new_tokens, temperature, top_k, top_p, seed, session):
    """A sample from the session's model, colored by the probability of each character, and the distribution of
    the first one."""
    request = family.SampleRequest.build(prompt=prompt, max_new_tokens=max_new_tokens, temperature=temperature,
                                         top_k=top_k, top_p=top_p, seed=seed)
    result = family.sample_text(session_of(session), request)
    steps = [asdict(view) for view in result.views]
    summary = (f"**{len(steps)} characters** in {result.seconds:.2f} s. Pick a character to see the distribution it "
               "was drawn from." + (f"  \n_{result.note}_" if result.note else ""))
    return (steps, highlighted(result.prompt, steps, inspected=1), summary,
            gr.Slider(minimum=1, maximum=max(2, len(steps)), value=1, step=1, interactive=True),
            *picked(1, steps), result.to_json())


def picked(index: int, steps: list[dict]):
    """The distribution that character `index` (1-based) was drawn from, and its numbers."""
    step = steps[index - 1]
    return (plots.distribution_figure(step["candidates"], f"Character {index}: {plots.show_token(step['token'])}"),
            stats_markdown(step))


@answers
def on_pick(index, steps, shown):
    """Inspect another sampled character (the text as the page shows it, with that character marked)."""
    if not steps:
        return gr.skip(), gr.skip(), "Sample from your model first."
    index = max(1, min(int(index), len(steps)))
    return highlighted(shown[0]["token"], steps, inspected=index), *picked(index, steps)


@answers
def on_score(text, session):
    """Each character's surprisal under the session's model and the text's bits per character."""
    result = family.score_text(session_of(session), family.ScoreRequest.build(text=text))
    characters = list(result.text[1:])
    marks = [(result.text[0], None)] + [(c, surprisal_label(b)) for c, b in zip(characters, result.surprisal_bits)]
    summary = (f"**{result.bits_per_char:.2f} bits per character** over {len(characters):,} characters (the first "
               "is read, not scored). Compare it with the held-out figure above: a text like yours scores near it, "
               "one in another style or language far above it.")
    return marks, plots.surprisal_figure(characters, result.surprisal_bits), summary, result.to_json()


def corpus_size(text: str) -> str:
    """A line under the text box: its length and different characters, or what is wrong with it."""
    try:
        corpus = Corpus.from_text(text)
    except RequestError as err:
        return f"_{err}_"
    return (f"{len(corpus.text):,} characters, {corpus.vocabulary.size} different; the last {len(corpus.heldout):,} "
            "are held out to test the model on text it never trained on.")
