"""The Compare tab's layout and events: the seed's comparison table beside figures measured here, a race, quality
against speed, the training curves together, and a live re-measurement."""
import gradio as gr

from genmodels.data.fashion_mnist import CLASS_NAMES
from genmodels.ui.compare.api import RACES
from genmodels.ui.compare.views import FAMILY_NAMES, committed_views, on_race, on_remeasure
from genmodels.ui.equations import add_equations
from genmodels.ui.outputs import picture
from genmodels.ui.share import add_copy_link
from genmodels.ui.wiring import listen

INTRO = """
The three families side by side on the same data (Fashion-MNIST) and the same machine. The seed's table says what
each family is known for; the columns beside it say what we measured on the models in this repository with
`python -m genmodels.eval.report`. Quality is a Frechet distance between samples and real test images in the judge
classifier's feature space: it is **not** Inception FID, and it is only comparable to the floor printed with it
(two sets of real images).
"""


def build_tab(page: gr.Blocks) -> dict:
    """Lay out the tab and wire its events (call inside gr.Blocks); returns the controls a link shares."""
    gr.Markdown(INTRO)
    add_equations("compare")
    table, costs, scatter, curves = committed_views()
    gr.Markdown(table, elem_id="compare-table")
    with gr.Row():
        label = gr.Dropdown(CLASS_NAMES, value="Sneaker", label="Class for the race", elem_id="race-class")
        steps = gr.Slider(1, 250, value=50, step=1, label="Diffusion steps in the race")
        seed = gr.Number(0, precision=0, label="Seed")
        race_button = gr.Button("Race: one sample from each family", variant="primary", elem_id="race-button")
        remeasure_button = gr.Button("Re-measure speed here", elem_id="remeasure-button")
    with gr.Row():
        pictures = [picture(name, elem_id=f"race-{family}") for family, name in FAMILY_NAMES.items()]
    race_table = gr.Markdown(elem_id="race-table")
    shared = {"label": label, "steps": steps, "seed": seed}
    add_copy_link("compare", shared)
    remeasured = gr.Markdown(elem_id="remeasured")
    gr.Markdown("### What each model cost to train")
    gr.Markdown(costs, elem_id="compare-costs")
    with gr.Row():
        gr.Plot(value=scatter, label="Quality against speed", elem_id="quality-speed-plot")
        gr.Plot(value=curves, label="Training curves", elem_id="compare-curves")
    listen(race_button.click, on_race, {"label": label, "diffusion_steps": steps, "seed": seed},
           [*pictures, race_table], arrive=page, api_name="ui_race", api_visibility="private", **RACES)
    listen(remeasure_button.click, on_remeasure, {"label": label}, remeasured, api_name="ui_remeasure",
           api_visibility="private", concurrency_limit=1)
    return shared
