"""Views every visitor sees on arrival: each tab's main action for its initial settings, computed once per process.

A class of thirty opening the page at once costs one computation per view, not thirty; the pictures are written
to files once, so concurrent visitors never make Gradio rewrite a file another browser is reading.
"""
import atexit
import functools
import inspect
import shutil
import tempfile
import threading
import uuid
from pathlib import Path

import gradio as gr
from PIL import Image

from genmodels.ui import images

# One arrival view computed at a time: each is timed with the machine to itself (their summaries show the time),
# and a class arriving at once waits for one computation instead of starting thirty.
COMPUTING = threading.Lock()


@functools.cache
def arrival_dir() -> Path:
    """A folder for this process's arrival pictures, removed at exit."""
    folder = Path(tempfile.mkdtemp(prefix="genmodels-arrival-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def as_files(value):
    """`value` with every PIL image written to a PNG, and every GIF copied out of the hourly-pruned GIF folder, so
    the result can be served for as long as the process runs."""
    if isinstance(value, Image.Image):
        path = arrival_dir() / f"{uuid.uuid4().hex}.png"
        value.save(path)
        return str(path)
    if isinstance(value, str) and value.endswith(".gif") and Path(value).parent == images.GIF_DIR:
        return shutil.copy(value, arrival_dir())
    if isinstance(value, (list, tuple)):
        return type(value)(as_files(v) for v in value)
    return value


def last(result):
    """A handler's answer: a streaming handler's final update."""
    if inspect.isgenerator(result):
        for result in result:
            pass
    return result


def on_arrival(page: gr.Blocks, handler, controls: dict, outputs: list, name: str) -> None:
    """On every page load, fill `outputs` with `handler(*initial values of controls)`, computed on the
    first load and shared by everyone after; a failure (a damaged model file) leaves the outputs empty, and the tab
    says why once it is used."""
    values = [control.value for control in controls.values()]

    @functools.cache
    def computed():
        return as_files(last(handler(*values)))

    def show():
        try:
            if computed.cache_info().currsize:  # shown before: no waiting behind a view still being computed
                return computed()
            with COMPUTING:
                return computed()
        except Exception:  # an opening view is a courtesy: whatever broke (a damaged file) shows once the tab is used
            return [gr.skip()] * len(outputs)

    page.load(show, None, outputs, api_name=f"{name}_arrival", api_visibility="private", show_progress="hidden")
