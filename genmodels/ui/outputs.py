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
/* A chart's panel label sits above the chart, not over its title. */
.block:has(.js-plotly-plot) > label[data-testid="block-label"].float { position: static; margin: 0 0 4px 0; }
/* On a phone, plotly's toolbar would cover the legend and title; charts still download on a larger screen. */
@media (max-width: 720px) { .js-plotly-plot .modebar-container { display: none; } }
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
