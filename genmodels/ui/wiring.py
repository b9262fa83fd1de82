"""Events that pass widget values by name: `listen(button.click, handler, {"prompt": prompt, ...}, outputs)`."""
import inspect

from genmodels.ui.arrival import on_arrival


def by_name(handler, names: list[str]):
    """A function Gradio calls with values in the order of `names`; it calls `handler` with them as keywords.
    It keeps the handler's name and marks (ZeroGPU's duration) but not its signature, which Gradio would read."""
    if inspect.isgeneratorfunction(handler):  # Gradio streams only generator functions
        def call(*values):
            yield from handler(**dict(zip(names, values, strict=True)))
    else:
        def call(*values):
            return handler(**dict(zip(names, values, strict=True)))
    call.__name__ = call.__qualname__ = handler.__name__
    call.__dict__.update({k: v for k, v in vars(handler).items() if k != "__wrapped__"})
    return call


def listen(event, handler, controls: dict, outputs, arrive=None, **options):
    """Wire `event` to `handler(**{name: value of control})` for the named controls (and states); with `arrive`
    (the page), every visitor also finds the handler's answer for the initial values there on arrival."""
    call = by_name(handler, list(controls))
    if arrive is not None:
        on_arrival(arrive, call, controls, outputs, options["api_name"])
    return event(call, list(controls.values()), outputs, **options)
