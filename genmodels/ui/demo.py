"""Assemble the app: the header, presenter mode, and one tab per registry entry with its JSON endpoints."""
import gradio as gr

from genmodels.ui.hosting import use_fresh_examples_cache
from genmodels.ui.outputs import OUTPUT_CSS, wrapping_tabs
from genmodels.ui.registry import TABS
from genmodels.ui.share import SHARE_CSS, restore_on_load

TITLE = "Generative Models Explorer"
CSS = """
.gm-cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); gap: 12px; }
.gm-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px;
           background: var(--background-fill-secondary); min-width: 0; }
.gm-card pre { white-space: pre-wrap; word-break: break-word; font-size: 0.95em; margin: 6px 0 0 0; }
.gm-card-head { font-size: 0.85em; color: var(--body-text-color-subdued); }
.gm-note { font-style: italic; }
/* Inside the model: the prompt's tokens as chips (text above id), and the forward pass as a table that fits a phone. */
.gm-chips { display: flex; flex-wrap: wrap; gap: 4px; }
.gm-chip { display: inline-flex; flex-direction: column; align-items: center; padding: 2px 5px; border-radius: 4px;
           border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary); }
.gm-chip code { white-space: pre; background: none; padding: 0; }
.gm-chip small { color: var(--body-text-color-subdued); font-size: 0.75em; }
.gm-flow { width: 100%; border-collapse: collapse; font-size: 0.92em; }
.gm-flow :is(th, td) { padding: 3px 6px; border-bottom: 1px solid var(--border-color-primary); text-align: left;
                       vertical-align: top; }
.gm-flow td:not(:first-child), .gm-flow th:not(:first-child) { white-space: nowrap; text-align: right; }
.gm-flow small { color: var(--body-text-color-subdued); }
.gm-scroll { overflow-x: auto; }
/* A display equation wider than a phone scrolls sideways inside its own box instead of being cut off. */
.prose .katex-display { overflow-x: auto; overflow-y: hidden; padding: 2px 0; }
.gm-lens { border-collapse: collapse; font-size: 0.92em; }
.gm-lens :is(th, td) { padding: 3px 5px; border: 1px solid var(--border-color-primary); white-space: nowrap;
                       text-align: left; }
.gm-lens code { white-space: pre; background: none; padding: 0; color: inherit; }
.gm-lens .gm-pick { outline: 2px solid #D55E00; outline-offset: -2px; font-weight: bold; }
/* Token chips flow like text: flex drops the spaces the component puts between chips, so a word split into
   two tokens reads as one word, and each token keeps its own leading space. */
.gm-tokens .textfield { display: flex; flex-wrap: wrap; align-items: baseline; row-gap: 3px; }
.gm-tokens .line-break { flex-basis: 100%; height: 0; }
.gm-tokens .token { margin: 0; padding: 0; border-radius: 2px; cursor: pointer;
                    box-shadow: inset -1px 0 0 rgba(0, 0, 0, 0.18); }
.gm-tokens .token .text, .gm-tokens .textspan { white-space: pre; }
/* The token being inspected (text/views.py gives it the color #CC79A7, which Gradio writes inline): outlined too, so
   it stands out from the probability colors. */
.gm-tokens .token[style*="204, 121, 167"] { outline: 2px solid #CC79A7; outline-offset: 1px; }
/* Presenter mode: everything (text, images, charts) about a third larger, for a projector at the back of a room. */
body.gm-presenter gradio-app .main { zoom: 1.35; }
/* On a 1920 px screen a paragraph ran to about 230 characters a line; it stops at a readable length instead. */
gradio-app .prose :is(p, li) { max-width: 120ch; }
/* The comparison tables' row headers stay whole words ("Generation", not "Genera/tion"). */
#compare-table :is(th, td):first-child, #about-comparison :is(th, td):first-child { min-width: 7.5em;
  word-break: normal; overflow-wrap: normal; hyphens: none; }
#compare-costs :is(th, td) { word-break: normal; overflow-wrap: normal; hyphens: none; }
/* On a phone the comparison tables scroll sideways instead of breaking words into one letter per line, and displayed
   equations take the text's size (KaTeX enlarges them by a fifth), so the widest (slerp, the Frechet distance) fit
   instead of hiding their end in a sideways scroll. */
@media (max-width: 720px) {
  .katex-display > .katex { font-size: 1em; }
  #compare-table table, #about-comparison table, #lab-stats table, #compare-costs table { display: block;
                                                                                         overflow-x: auto; }
  #lab-stats :is(th, td) { word-break: normal; overflow-wrap: normal; padding: 4px 6px; }
  #compare-table :is(th, td), #about-comparison :is(th, td) { min-width: 8em; word-break: normal;
                                                               overflow-wrap: normal; }
}
""" + SHARE_CSS + OUTPUT_CSS
# Charts size themselves on a window resize, not on a zoom: after the switch they are told to, or the ones drawn
# before it would keep their old width, cut off inside the zoomed page.
PRESENTER_JS = ("(on) => { document.body.classList.toggle('gm-presenter', on); "
                "setTimeout(() => window.dispatchEvent(new Event('resize')), 50); return on; }")
# Every 10 minutes, Gradio's copies of served images (and anything posted to its upload route) go once an hour old,
# the age at which images.py prunes the app's GIFs; all of them go when the server stops.
DELETE_CACHE = (600, 3600)
# The queue: up to 4 events of a kind run at once (model endpoints set their own limits); 30 students on a 2-core CPU
# kept it at about 2 answers a second (`python -m genmodels.tools.loadtest`), so 120 waiting events is about a minute's
# wait. Past that a new request is refused at once with Gradio's "busy, try again" instead of waiting longer.
QUEUE = {"default_concurrency_limit": 8, "max_size": 120}
# System fonts only: the app must work offline (a classroom, CI), so nothing is fetched from font CDNs.
THEME = gr.themes.Soft(primary_hue="blue", secondary_hue="orange", neutral_hue="slate",
                       font=["ui-sans-serif", "system-ui", "sans-serif"],
                       font_mono=["ui-monospace", "SFMono-Regular", "monospace"])


def build_demo() -> gr.Blocks:
    """The whole app as a gr.Blocks (launch it with THEME and CSS)."""
    use_fresh_examples_cache()
    with gr.Blocks(title=TITLE, delete_cache=DELETE_CACHE) as demo:
        with gr.Row(equal_height=True):
            with gr.Column(scale=3, min_width=300):  # wide enough that a phone puts the switch below the title
                gr.Markdown(f"# {TITLE}\nDrive real generative models, trained in this repository, and watch every "
                            "step.")
            presenter = gr.Checkbox(False, label="Presenter mode: larger text, images and charts for a projector",
                                    elem_id="presenter-mode", scale=0, min_width=260)
        presenter.change(None, presenter, None, js=PRESENTER_JS)
        link_notice = gr.Markdown(elem_id="link-notice")
        shared = {}
        with wrapping_tabs() as tabs:
            for tab in TABS:
                with gr.Tab(tab.label, id=tab.id, elem_id=f"tab-{tab.id}"):
                    shared[tab.id] = tab.build(demo)
        restore_on_load(demo, tabs, link_notice, shared)
        for tab in TABS:
            if tab.register_api is not None:
                tab.register_api()
    return demo
