"""The autoregressive text tab's layout and events: next-token distributions, streaming generation, continuations,
scoring."""
from pathlib import Path

import gradio as gr

from genmodels.checkpoint import read_log
from genmodels.text.pretrained import ASSET_DIR
from genmodels.text.requests import MAX_CONTINUATION_TOKENS, MAX_CONTINUATIONS, MAX_NEW_TOKENS
from genmodels.ui.arrival import on_arrival
from genmodels.ui.equations import LATEX, add_equations
from genmodels.ui.lessons import Lesson, Run, add_lessons, run_lessons
from genmodels.ui.outputs import wrapping_tabs
from genmodels.ui.owntext import layout as owntext
from genmodels.ui.share import add_copy_link
from genmodels.ui.timeline import add_timeline
from genmodels.ui.text.views import (
    GENERATED_COLORS,
    SURPRISAL_COLORS,
    on_continuations,
    on_example_step,
    on_generate,
    on_head,
    on_inside,
    on_next_token,
    on_pick_token,
    on_reset_next_token,
    on_score,
    on_select_token,
    redraw,
)
from genmodels.ui.wiring import by_name, listen

EXAMPLE_PROMPTS = {  # label: prompt (our own lines, not quotations)
    "A king's command": "KING.\nBring me the map, and let the council wait.\n\nQUEEN.\n",
    "A citizen complains": "FIRST CITIZEN.\nThe bread is dear, the winter long, and still\n",
    "A line of verse": "O gentle night, that hides the lover's face,\n",
    "A messenger arrives": "Enter a MESSENGER, running.\n\nMESSENGER.\nMy lord,",
    "Empty: start from the start token": "",
}
INTRO = r"""
A language model writes one token at a time. It reads the text so far and gives a probability to every
token in its vocabulary; one is drawn, appended, and the process repeats. The probability of a whole text
is the product of these next-token probabilities (the chain rule):
$$P(x_1, \dots, x_n) = \prod_{i=1}^{n} P(x_i \mid x_{<i})$$
Training makes the model assign high probability to real text: its loss is the cross-entropy
$-\log P(x_i \mid x_{<i})$ of each actual next token. This model is a small GPT trained on Shakespeare's plays,
with Hamlet and The Tempest held out to measure it honestly.
"""
SLIDERS_HELP = r"""
The sliders act on the model's scores (logits) $z$ in this order:

1. **Temperature** $T$ divides them: $p_i \propto e^{z_i / T}$. Below 1 the distribution sharpens, above 1 it
   flattens. $T = 0$ means always take the most likely token (no division happens).
2. **Top-k** keeps only the $k$ most likely tokens ($0$ = keep all).
3. **Top-p** (nucleus) keeps the smallest set of most likely tokens whose total probability reaches $p$;
   the token that crosses $p$ stays in. At least one token always survives.

The kept tokens are renormalized and one is drawn with the seed. Same seed, same settings, same token.
"""


INSIDE_HELP = r"""
How the distribution on **Next token** is computed, from one real forward pass over the prompt on the left. The text
becomes **tokens**; each token's **embedding**, a vector of $d$ numbers, starts a *residual stream* that flows up
through the blocks. In each block, **attention** lets every token read from the tokens before it (never after them:
the causal mask), and an **MLP** reworks each position on its own; both add their result to the stream. At the
end the final norm and the **unembedding** turn the last position's vector into a score for every token of the
vocabulary. The **logit lens** applies that last step after every block, to watch the prediction form.
Heads specialize: some look at the token just before each one (a stripe beside the diagonal), some at the start.
"""
# A clicked token's chart sits below the whole generated text, off screen once the text is long: bring it into view.
SHOW_TOKEN_CHART_JS = ("() => document.getElementById('token-plot')"
                       ".scrollIntoView({behavior: 'smooth', block: 'nearest'})")
# The head whose whole matrix the view opens on: in the committed weights a previous-token head (61% of each token's
# attention on the token just before it, for the first example prompt), the clearest pattern of the sixteen.
INSIDE_LAYER, INSIDE_HEAD = 4, 4


def model_shape() -> tuple[int, int]:
    """Blocks and heads per block of the committed GPT, read from its JSON (the model itself loads on first use)."""
    config = (read_log(Path(ASSET_DIR) / "gpt.json") or {}).get("config", {})
    return config.get("n_layer", 1), config.get("n_head", 1)


def training_summary() -> str:
    """The committed evaluation of the model on the held-out plays."""
    e = read_log(Path(ASSET_DIR) / "evaluation.json")
    if e is None:
        return "No evaluation recorded yet: run `python -m genmodels.text.evaluate`."
    return (f"**{e['val_bits_per_char']:.3f} bits per character** on Hamlet and The Tempest, which the model never saw "
            f"({e['val_nats_per_token']:.3f} nats per token, {e['chars_per_token']:.2f} characters per token, "
            f"{e['params'] / 1e6:.1f}M parameters, context {e['context']} tokens). Measured by "
            f"`python -m genmodels.text.evaluate` on {e['device']}.")


LESSONS = [
    Lesson("Temperature 0 is greedy", {"temperature": 0.0, "top_k": 0, "top_p": 1.0},
           "At temperature 0, how many tokens can still be drawn, and does the seed still matter?",
           "Press Next token a few times: the adjusted (orange) bars collapse onto the single most likely token, so "
           "every draw is the argmax and the seed no longer matters. Then Generate: greedy text soon loops on the "
           "same phrases, because the most likely next token is rarely the most likely text."),
    Lesson("Top-p 0.5 vs 0.95", {"temperature": 1.0, "top_k": 0, "top_p": 0.5},
           "With top-p 0.5, how many candidates survive: always the same number, or does it depend on the step?",
           "Look at the cumulative chart: top-p keeps tokens, most likely first, until their probabilities add up "
           "to p, so at 0.5 only a handful survive (grey bars are removed). Move top-p to 0.95 and watch the kept "
           "set grow on a confident step and on an uncertain one: the cut adapts to how spread the distribution is."),
    Lesson("High temperature", {"temperature": 1.6, "top_k": 0, "top_p": 1.0},
           "Dividing the logits by 1.6: will the orange bars come out taller or flatter than the blue ones, and "
           "what happens to the entropy?",
           "Dividing the logits by T > 1 flattens the distribution: unlikely tokens gain probability, entropy rises. "
           "Generate and read: spelling and grammar fall apart, because the tail of 4,096 tokens is mostly wrong."),
    Lesson("Top-k 5", {"temperature": 1.0, "top_k": 5, "top_p": 1.0},
           "With top-k 5, how many candidates are left, and does it matter how confident the model is?",
           "Only the five most likely tokens survive, whatever their probabilities: on a confident step that changes "
           "nothing, on an uncertain one it cuts plausible choices. Compare with top-p, whose cut adapts."),
]


def build_tab(page: gr.Blocks) -> dict:
    """Lay out the tab and wire its events (call inside gr.Blocks); returns the controls a link shares."""
    gr.Markdown(INTRO, latex_delimiters=LATEX)
    add_equations("text")
    next_state, steps_state, inside_state = gr.State(None), gr.State(None), gr.State(None)
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            prompt = gr.Textbox(EXAMPLE_PROMPTS["A king's command"], label="Prompt", lines=5,
                                placeholder="Leave empty to start from the start token", elem_id="text-prompt")
            gr.Examples([[p] for p in EXAMPLE_PROMPTS.values()], inputs=prompt, label="Example prompts",
                        example_labels=list(EXAMPLE_PROMPTS))
            temperature = gr.Slider(0, 2, value=0.8, step=0.05, label="Temperature", elem_id="text-temperature")
            top_k = gr.Slider(0, 4096, value=0, step=1, label="Top-k (0 = off)", elem_id="text-top-k")
            top_p = gr.Slider(0.01, 1, value=0.95, step=0.01, label="Top-p", elem_id="text-top-p")
            seed = gr.Number(0, precision=0, minimum=0, maximum=2**31 - 1, label="Seed", elem_id="text-seed")
            lesson_picker = add_lessons(LESSONS, {"temperature": temperature, "top_k": top_k, "top_p": top_p},
                                        "text-lessons")
            share_row = gr.Column()
            with gr.Accordion("What the sliders do", open=False):  # open, it parted a phone's prompt from its button
                gr.Markdown(SLIDERS_HELP, latex_delimiters=LATEX)
        with gr.Column(scale=2, min_width=320):
            lesson_note = gr.Markdown(elem_id="text-lessons-notice")
            with wrapping_tabs() as view:
                with gr.Tab("Next token", id="next"):
                    with gr.Row():
                        next_button = gr.Button("Next token", variant="primary", elem_id="next-token-button")
                        reset_button = gr.Button("Forget this step", variant="secondary")
                    next_stats = gr.Markdown("Press **Next token** to see the model's next-token distribution.",
                                             elem_id="next-token-stats")
                    distribution_plot = gr.Plot(label="Next-token distribution", elem_id="next-token-plot")
                    cumulative_plot = gr.Plot(label="Cumulative probability (top-p)", elem_id="cumulative-plot")
                with gr.Tab("Inside the model", id="inside") as inside_tab:
                    gr.Markdown(INSIDE_HELP, latex_delimiters=LATEX)
                    inside_button = gr.Button("Look inside, for the prompt on the left", variant="primary",
                                              elem_id="inside-button")
                    inside_summary = gr.Markdown(elem_id="inside-summary")
                    inside_flow = gr.HTML(label="The forward pass, with this prompt's shapes", elem_id="inside-flow")
                    inside_tokens = gr.HTML(label="The prompt as the model reads it", elem_id="inside-tokens")
                    heads_plot = gr.Plot(label="Attention from the last token, in every head (darker: more)",
                                         elem_id="inside-heads")
                    blocks, heads = model_shape()
                    with gr.Row():
                        layer = gr.Slider(1, blocks, value=min(INSIDE_LAYER, blocks), step=1, label="Block",
                                          elem_id="inside-layer")
                        head = gr.Slider(1, heads, value=min(INSIDE_HEAD, heads), step=1, label="Head",
                                         elem_id="inside-head")
                    matrix_plot = gr.Plot(label="One head: what each token looks at (a row sums to 100%)",
                                          elem_id="inside-matrix")
                    lens_table = gr.HTML(label="The logit lens: the prediction forming, block by block",
                                         elem_id="inside-lens")
                with gr.Tab("Generate", id="generate"):
                    with gr.Row():
                        max_new_tokens = gr.Slider(1, MAX_NEW_TOKENS, value=200, step=1, label="Tokens to generate",
                                                   elem_id="generate-length")
                        generate_button = gr.Button("Generate", variant="primary", elem_id="generate-button")
                        stop_button = gr.Button("Stop", variant="stop")
                    generated = gr.HighlightedText(label="Generated text, colored by the model's probability of "
                                                         "each token",
                                                   color_map=GENERATED_COLORS, show_legend=True,
                                                   show_inline_category=False, elem_id="generated-text",
                                                   elem_classes="gm-tokens", interactive=False)  # an input, not edited
                    generation_stats = gr.Markdown(elem_id="generation-stats")
                    token_index = gr.Slider(1, 2, value=1, step=1, label="Token to inspect", interactive=False)
                    token_plot = gr.Plot(label="The distribution that token was drawn from", elem_id="token-plot")
                    token_stats = gr.Markdown(elem_id="token-stats")
                with gr.Tab("Several continuations", id="continuations"):
                    gr.Markdown("The same prompt and settings, drawn with different seeds (seed, seed + 1, ...): the "
                                "spread between the samples is the distribution, seen as draws.")
                    with gr.Row():
                        count = gr.Slider(2, MAX_CONTINUATIONS, value=4, step=1, label="Continuations")
                        length = gr.Slider(1, MAX_CONTINUATION_TOKENS, value=60, step=1, label="Tokens each",
                                           elem_id="continuation-length")
                        continuations_button = gr.Button("Draw continuations", variant="primary",
                                                         elem_id="continuations-button")
                    continuation_cards = gr.HTML(elem_id="continuation-cards")
                with gr.Tab("Score a text", id="score"):
                    gr.Markdown("How surprised is the model by each token of any text? Surprisal is $-\\log_2 p$ "
                                "bits: a token the model gave probability 1/2 costs 1 bit, 1/1024 costs 10 bits.",
                                latex_delimiters=LATEX)
                    score_input = gr.Textbox(label="Text to score", lines=5,
                                             value="KING.\nBring me the map, and let the council wait.\n")
                    score_button = gr.Button("Score", variant="primary", elem_id="score-button")
                    score_marks = gr.HighlightedText(label="Surprisal per token", color_map=SURPRISAL_COLORS,
                                                     show_legend=True, show_inline_category=False,
                                                     elem_id="score-marks", elem_classes="gm-tokens")
                    score_stats = gr.Markdown(elem_id="score-stats")
                    score_plot = gr.Plot(label="Surprisal per token", elem_id="score-plot")
                with gr.Tab("How it was trained", id="training"):
                    gr.Markdown(training_summary())
                    timeline = add_timeline("text")
                with gr.Tab("Your own text", id="owntext"):
                    own_text = owntext.build(page, {"temperature": temperature, "top_k": top_k, "top_p": top_p,
                                                    "seed": seed})

    shared = {"prompt": prompt, "temperature": temperature, "top_k": top_k, "top_p": top_p, "seed": seed,
              "tokens": max_new_tokens, "continuations": count, "continuation_tokens": length, "view": view,
              **own_text, **timeline}
    with share_row:
        add_copy_link("text", shared)
    sampling = {"temperature": temperature, "top_k": top_k, "top_p": top_p}
    drawing = {"prompt": prompt, **sampling, "seed": seed}
    next_outputs = [distribution_plot, cumulative_plot, next_stats]
    run_lessons(lesson_picker, LESSONS, sampling, lesson_note,
                [Run(on_next_token, drawing | {"state": next_state}, [prompt, next_state, *next_outputs])])
    on_arrival(page, by_name(on_example_step, list(drawing)), drawing, [next_state, *next_outputs], "ui_next_token")
    listen(next_button.click, on_next_token, drawing | {"state": next_state}, [prompt, next_state, *next_outputs],
           api_name="ui_next_token", api_visibility="private")
    reset_button.click(on_reset_next_token, None, [next_state, *next_outputs], api_name="ui_reset_next_token",
                       api_visibility="private")
    for slider in sampling.values():
        listen(slider.change, redraw, sampling | {"state": next_state}, next_outputs,
               api_name=f"ui_redraw_{slider.elem_id}", api_visibility="private", trigger_mode="always_last",
               show_progress="hidden")
    looking = {"prompt": prompt, "layer": layer, "head": head, "state": inside_state}
    inside_outputs = [inside_state, inside_summary, inside_flow, inside_tokens, heads_plot, matrix_plot, lens_table]
    on_arrival(page, by_name(on_inside, list(looking)), looking, inside_outputs, "ui_inside")
    for event, name in ((inside_button.click, "ui_inside"), (inside_tab.select, "ui_inside_tab")):
        listen(event, on_inside, looking, inside_outputs, api_name=name, api_visibility="private")
    for slider in (layer, head):
        listen(slider.change, on_head, {"layer": layer, "head": head, "state": inside_state}, [heads_plot, matrix_plot],
               api_name=f"ui_{slider.elem_id.replace('-', '_')}", api_visibility="private", show_progress="hidden",
               trigger_mode="always_last")
    generation = listen(generate_button.click, on_generate, drawing | {"max_new_tokens": max_new_tokens},
                        [generated, generation_stats, steps_state, token_index, token_plot, token_stats],
                        api_name="ui_generate", api_visibility="private")
    stop_button.click(None, None, None, cancels=[generation], api_name="ui_stop_generate", api_visibility="private")
    picked = [generated, token_plot, token_stats]
    # one event per click, so the chart is scrolled to once it shows the clicked token; input, not change: a click and
    # the end of a generation set the slider along with the chart
    generated.select(on_select_token, [steps_state, generated], [token_index, *picked], api_name="ui_select_token",
                     api_visibility="private", show_progress="hidden").then(None, None, None, js=SHOW_TOKEN_CHART_JS)
    listen(token_index.input, on_pick_token, {"index": token_index, "steps": steps_state, "shown": generated}, picked,
           api_name="ui_pick_token", api_visibility="private", show_progress="hidden", trigger_mode="always_last")
    listen(continuations_button.click, on_continuations, drawing | {"count": count, "max_new_tokens": length},
           continuation_cards, api_name="ui_continuations", api_visibility="private")
    score_button.click(on_score, score_input, [score_marks, score_plot, score_stats], api_name="ui_score",
                       api_visibility="private")
    return shared
