"""The Gradio UI: the only package that imports gradio. `build_demo()` assembles every tab."""
from genmodels.ui.demo import build_demo

__all__ = ["build_demo"]
