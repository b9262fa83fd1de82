"""Launch Generative Models Explorer on http://127.0.0.1:7860 (GRADIO_SERVER_NAME / _PORT override)."""
import os

from genmodels.ui import build_demo
from genmodels.ui.demo import CSS, THEME

if __name__ == "__main__":
    demo = build_demo()
    demo.queue(default_concurrency_limit=4)
    demo.launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", os.environ.get("PORT", "7860"))),
        theme=THEME,
        css=CSS,
    )
