"""The one error a bad request raises: its message is what the user reads (the UI shows it as a gr.Error)."""


class RequestError(ValueError):
    """A request the app cannot serve, said in words a user can act on (no traceback, no file path)."""
