"""Output components made alike: lossless PNG downloads, a fullscreen button, and the label as alt text."""
import gradio as gr


def picture(label: str, **kwargs) -> gr.Image:
    """A generated PIL image, downloadable as PNG, described to screen readers by its label."""
    return gr.Image(label=label, type="pil", format="png", alt_text=label, buttons=["download", "fullscreen"],
                    interactive=False, **kwargs)


def animation(label: str, **kwargs) -> gr.Image:
    """A GIF file the app wrote, downloadable as it is, described to screen readers by its label."""
    return gr.Image(label=label, type="filepath", alt_text=label, buttons=["download", "fullscreen"],
                    interactive=False, **kwargs)


def image_gallery(label: str, **kwargs) -> gr.Gallery:
    """Generated images with captions; each one or all of them downloadable as PNG."""
    return gr.Gallery(label=label, format="png", object_fit="contain",
                      buttons=["download", "download_all", "fullscreen"], interactive=False, **kwargs)
