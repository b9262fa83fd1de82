"""The "Your own text" sub-tab: a text box and Train, the bits-per-character chart and the sample as it learns, then
sampling with the text tab's sliders and scoring, all on the session's own model."""
import gradio as gr

from genmodels.owntext.corpus import MAX_CHARS, MAX_VOCAB, MIN_CHARS
from genmodels.owntext.requests import LIMITS
from genmodels.owntext.sessions import IDLE_SECONDS, MAX_TRAININGS
from genmodels.owntext.trainer import DEFAULT_SECONDS, MAX_SECONDS
from genmodels.paths import ASSETS
from genmodels.ui.arrival import on_arrival
from genmodels.ui.owntext.views import corpus_size, on_pick, on_sample, on_score, on_train, on_untrained
from genmodels.ui.text.views import GENERATED_COLORS, SURPRISAL_COLORS
from genmodels.ui.wiring import by_name, listen

EXAMPLE_TEXT = (ASSETS / "examples/sonnets.txt").read_text()  # three of Shakespeare's sonnets (public domain)
INTRO = ("Paste any text and press **Train**: a small GPT of the main model's design, reading one character at a "
         "time, learns it on this server while you watch.")
WHAT_TO_SEE = ("The sample goes from noise to letters to your words. The last tenth of your text is held out: when its "
               "bits per character turn back up while the training part's keep falling, the model has started to "
               "memorize rather than to learn.")
LIMITS_NOTE = (f"{MIN_CHARS:,} to {MAX_CHARS:,} characters, any language, at most {MAX_VOCAB} different; up to "
               f"{MAX_SECONDS} s a training, {MAX_TRAININGS} trainings at once on this server; your model is forgotten "
               f"after {IDLE_SECONDS // 60} minutes unused.")


def build(page: gr.Blocks, sampling: dict) -> dict:
    """Lay out the sub-tab and wire it (inside a gr.Tab); `sampling` holds the text tab's temperature, top_k, top_p
    and seed, which sample this model too. Returns the controls a link shares."""
    gr.Markdown(INTRO)
    session = gr.State(None, time_to_live=IDLE_SECONDS)
    with gr.Row():
        with gr.Column(scale=3, min_width=300):
            text = gr.Textbox(EXAMPLE_TEXT, label="Your text", lines=6, max_lines=12, elem_id="owntext-text")
            size = gr.Markdown(corpus_size(EXAMPLE_TEXT), elem_id="owntext-size")
        with gr.Column(scale=1, min_width=200):
            seconds = gr.Slider(5, MAX_SECONDS, value=min(30, DEFAULT_SECONDS), step=5, label="Training seconds",
                                elem_id="owntext-seconds")
            train = gr.Button("Train", variant="primary", elem_id="owntext-train")
            stop = gr.Button("Stop", variant="stop", elem_id="owntext-stop")
    gr.Markdown(LIMITS_NOTE, elem_classes="gm-note")
    stats = gr.Markdown(elem_id="owntext-stats")
    chart = gr.Plot(label="Bits per character: training part and held-out part", elem_id="owntext-chart")
    sample = gr.Textbox(label="What it writes now (temperature 0.8, from your text's first character)", lines=4,
                        interactive=False, elem_id="owntext-sample")
    gr.Markdown(WHAT_TO_SEE)
    gr.Markdown("### Sample and score with your model\nThe sliders on the left (temperature, top-k, top-p, seed) "
                "draw from this model as they draw from the main one.")
    with gr.Row():
        prompt = gr.Textbox("", label="Prompt (empty: your text's first character)", elem_id="owntext-prompt")
        length = gr.Slider(1, LIMITS["max_new_tokens"].high, value=200, step=1, label="Characters to generate",
                           elem_id="owntext-length")
        draw = gr.Button("Sample", variant="primary", elem_id="owntext-sample-button")
    sampled = gr.HighlightedText(label="Sampled text, colored by the model's probability of each character",
                                 color_map=GENERATED_COLORS, show_legend=True, show_inline_category=False,
                                 elem_id="owntext-sampled", elem_classes="gm-tokens", interactive=False)
    sample_stats = gr.Markdown(elem_id="owntext-sample-stats")
    index = gr.Slider(1, 2, value=1, step=1, label="Character to inspect", interactive=False,
                      elem_id="owntext-index")
    distribution = gr.Plot(label="The distribution that character was drawn from", elem_id="owntext-distribution")
    character_stats = gr.Markdown(elem_id="owntext-character-stats")
    with gr.Row():
        score_text = gr.Textbox("Shall I compare thee to a winter's night?", label="Text to score",
                                elem_id="owntext-score-text")
        score = gr.Button("Score", elem_id="owntext-score-button")
    marks = gr.HighlightedText(label="Surprisal per character", color_map=SURPRISAL_COLORS, show_legend=True,
                               show_inline_category=False, elem_id="owntext-marks", elem_classes="gm-tokens")
    score_stats = gr.Markdown(elem_id="owntext-score-stats")
    score_plot = gr.Plot(label="Surprisal per character", elem_id="owntext-score-plot")
    with gr.Accordion("Raw numbers", open=False):
        numbers = gr.JSON(label="The latest answer", elem_id="owntext-numbers")
    steps = gr.State(None)

    text.change(corpus_size, text, size, api_name="ui_owntext_size", api_visibility="private",
                show_progress="hidden", trigger_mode="always_last")
    training_views = [stats, chart, sample, numbers]
    on_arrival(page, by_name(on_untrained, ["text", "seed"]), {"text": text, "seed": sampling["seed"]},
               training_views, "ui_owntext")
    # public events call the handlers by their own signatures (the API's parameter names; the State is the session's
    # and no caller's); preprocess=False: the request checks every value as sent and names a bad one
    training = train.click(on_train, [text, seconds, sampling["seed"], session], [session, *training_views],
                           api_name="owntext_train", concurrency_limit=MAX_TRAININGS,
                           concurrency_id="owntext-training", preprocess=False)
    stop.click(None, None, None, cancels=[training], api_name="ui_owntext_stop", api_visibility="private")
    sampling_inputs = [prompt, length, sampling["temperature"], sampling["top_k"], sampling["top_p"],
                       sampling["seed"], session]
    draw.click(on_sample, sampling_inputs, [steps, sampled, sample_stats, index, distribution, character_stats,
                                            numbers], api_name="owntext_sample", preprocess=False)
    listen(index.input, on_pick, {"index": index, "steps": steps, "shown": sampled},
           [sampled, distribution, character_stats], api_name="ui_owntext_pick", api_visibility="private",
           show_progress="hidden", trigger_mode="always_last")
    score.click(on_score, [score_text, session], [marks, score_plot, score_stats, numbers], api_name="owntext_score",
                preprocess=False)
    return {"own_text": text, "own_seconds": seconds, "own_prompt": prompt, "own_length": length}
