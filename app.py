"""Launch Generative Models Explorer on http://127.0.0.1:7860 (GRADIO_SERVER_NAME / _PORT override)."""
import os
import signal
import sys
import time

STARTED = time.perf_counter()  # before the heavy imports: the cold start printed below counts them
# One torch thread per request (set before torch loads). The server runs each request on a thread of its pool, and
# torch's OpenMP gives every calling thread its own team of threads, which stop waiting eagerly for work once more
# of them exist than cores: on 2 cores a request then ran up to 2.4x slower than alone on the main thread
# (docs/performance.md). With one thread per request there are no teams; concurrent requests share the cores.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from genmodels.ui import build_demo  # noqa: E402
from genmodels.ui.demo import CSS, QUEUE, THEME  # noqa: E402

if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # a stopped Space or `kill` exits cleanly (atexit runs)
    demo = build_demo()
    demo.queue(**QUEUE)
    demo.launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", os.environ.get("PORT", "7860"))),
        theme=THEME,
        css=CSS,
        share=False,  # never a public gradio.live tunnel, whatever GRADIO_SHARE says
        max_file_size="1mb",  # the app takes no uploads: Gradio's upload route accepts no more than this
        prevent_thread_lock=True,
    )
    print(f"Serving {demo.local_url} {time.perf_counter() - STARTED:.1f} s after app.py started "
          "(models load on first use)", flush=True)
    demo.block_thread()
