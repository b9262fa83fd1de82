"""The Gradio UI: the only package that imports gradio. `build_demo()` assembles every tab."""


def build_demo():
    """The whole app as a gr.Blocks (genmodels.ui.demo.build_demo); imported on call, so that importing one
    family's UI package does not import every other one."""
    from genmodels.ui.demo import build_demo as build
    return build()
