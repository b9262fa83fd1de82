"""Output components made alike (lossless PNG downloads, a fullscreen button, the label as alt text), and tabs that
wrap."""
import gradio as gr

OUTPUT_CLASS = "gm-output"  # demo.CSS puts these outputs' labels above the image, not over its top rows
OUTPUT_CSS = """
/* A generated image's label and buttons sit in a row above it instead of floating over its top edge, where they hid
   the first rows of the pixel canvas and an inspected pixel there. */
.gm-output label[data-testid="block-label"].float { position: static; margin: 0 0 6px 0; max-width: calc(100% - 80px); }
.gm-output .image-container > .icon-button-wrapper.top-panel { top: auto; bottom: 100%; margin-bottom: 6px; }
/* A gallery caption wraps onto a second line instead of losing its figure ("Sneaker 1..." in presenter mode). */
.gm-output .caption-label { white-space: normal; max-width: calc(100% - 8px); }
/* A gallery without a set height is as tall as its images (Gradio keeps 320-450 px, blank under two short rows). */
.gm-output .grid-wrap.fixed-height { min-height: 0; }
/* On a phone a gallery takes as many columns as fit (at Gradio's 100 px minimum the fourth of four was cut off, and six
   columns left no room for a caption), and a caption laid over a thumbnail hid half of it: it goes under the image. */
@media (max-width: 720px) {
  .gm-output .grid-container { grid-template-columns: repeat(auto-fill, minmax(68px, 1fr));
                               grid-template-rows: none; grid-auto-rows: auto; }
  .gm-output .thumbnail-item:has(.caption-label) { display: flex; flex-direction: column; height: auto;
                                                   aspect-ratio: auto; }
  .gm-output .thumbnail-item:has(.caption-label) img { flex: none; width: 100%; height: auto; aspect-ratio: 1; }
  .gm-output .thumbnail-item .caption-label { position: static; max-width: none; border: none; border-radius: 0;
                                              padding: 2px 4px; font-size: 0.8em; line-height: 1.2; }
}
/* A chart's panel label sits above the chart, not over its title. */
.block:has(.js-plotly-plot) > label[data-testid="block-label"].float { position: static; margin: 0 0 4px 0; }
/* On a phone, plotly's toolbar would cover the legend and title; charts still download on a larger screen. */
@media (max-width: 720px) { .js-plotly-plot .modebar-container { display: none; } }
/* A phone's chart titles a size smaller (plotly draws them at 17 px whatever the width), so they fit its width. */
@media (max-width: 720px) { .js-plotly-plot .gtitle { font-size: 14px !important; } }
/* Dark mode: the figures carry plotly's white template, since the server cannot know the page's theme, so the page
   restyles them. Only the template's own colors change (white paper, its slate text, its pale grid) and
   black ink (outlines, marks, a black path): every data color, heat map and picture keeps its meaning. */
.dark .js-plotly-plot .main-svg { background: transparent !important; }
.dark .js-plotly-plot [style*="fill: rgb(255, 255, 255)"]:is(rect.bg, rect.cbbg) { fill: transparent !important; }
.dark .js-plotly-plot :not(.hoverlayer *):is([style*="fill: rgb(42, 63, 95)"], [style*="fill: rgb(0, 0, 0)"]) {
  fill: var(--body-text-color) !important; }
.dark .js-plotly-plot :not(.hoverlayer *)[style*="stroke: rgb(0, 0, 0)"],
.dark .js-plotly-plot .annotation-arrow-g path { stroke: var(--body-text-color) !important; }
.dark .js-plotly-plot .annotation-arrow-g path[style*="fill"] { fill: var(--body-text-color) !important; }
.dark .js-plotly-plot :is(.xgrid, .ygrid, .zl, .crisp[style*="stroke: rgb(235, 240, 248)"]) {
  stroke: rgba(255, 255, 255, 0.14) !important; }
.dark .js-plotly-plot .modebar-group { background-color: transparent !important; }
/* Token chips: Gradio prints black text on each category color at half opacity, which over the dark page is dark on
   dark; light text reads on all four colors there. */
.dark .gm-tokens :is(.token.highlighted, .legend-item) { color: var(--body-text-color) !important; }
"""


def picture(label: str, **kwargs) -> gr.Image:
    """A generated PIL image, downloadable as PNG, described to screen readers by its label."""
    return gr.Image(label=label, type="pil", format="png", alt_text=label, buttons=["download", "fullscreen"],
                    interactive=False, elem_classes=[OUTPUT_CLASS], **kwargs)


def animation(label: str, **kwargs) -> gr.Image:
    """A GIF file the app wrote, downloadable as it is, described to screen readers by its label."""
    return gr.Image(label=label, type="filepath", alt_text=label, buttons=["download", "fullscreen"],
                    interactive=False, elem_classes=[OUTPUT_CLASS], **kwargs)


def image_gallery(label: str, **kwargs) -> gr.Gallery:
    """Generated images with captions; each one or all of them downloadable as PNG."""
    return gr.Gallery(label=label, format="png", object_fit="contain",
                      buttons=["download", "download_all", "fullscreen"], interactive=False,
                      elem_classes=[OUTPUT_CLASS], **kwargs)


def wrapping_tabs(**kwargs) -> gr.Tabs:
    """Tabs that wrap onto a second row when they do not fit, instead of hiding behind a "..." menu, where a projector
    at 1280 x 720 in presenter mode and a phone lost half of them."""
    return gr.Tabs(overflow_behavior="wrap", **kwargs)
