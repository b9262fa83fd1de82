"""Resources: memory stays bounded over many requests, temporary files are cleaned on a schedule, and every bound
on a request is in the code and in the README's Limits table."""
import os
import re
import time
from pathlib import Path

import pytest
from gradio_client import Client

from genmodels.gan import toy2d
from genmodels.ui import diffusion_api, gan_api, gan_handlers, images, pixels_api, share, text_api, toy_gan_tab
from genmodels.ui.demo import DELETE_CACHE, build_demo
from genmodels.ui.validate import MAX_TEXT_CHARS
from tests.conftest import ROOT, served
from tests.test_app import call

CI = os.environ.get("CI", "").lower() == "true"
REQUESTS = 300 if CI else 2000  # 2000 take about 5.5 minutes on 2 CPU cores
BASELINE = 100  # memory is compared with its level after this many requests (models loaded, caches warm)
MIXED = [  # cheap requests of every family, each with its own seed or text
    ("next_token", lambda i: dict(prompt=f"KING.\nSpeak, {i}.\n", temperature=0.8, top_k=0, top_p=0.95, seed=i)),
    ("score_text", lambda i: dict(text=f"To be, or not to be, {i} times: that is the question.")),
    ("gan_sample", lambda i: dict(kind=("healthy", "collapsed")[i % 2], seed=i, count=4)),
    ("gan_interpolate", lambda i: dict(kind="healthy", seed_a=i, index_a=0, seed_b=i + 1, index_b=1, frames=8)),
    ("forward_process", lambda i: dict(example=i % 10, t=i % 1000, seed=i)),
    ("diffuse", lambda i: dict(prompt="a bag", guidance=3.0, steps=2, sampler="DDIM", eta=0.0, seed=i, count=1)),
]


def resident_mb(pid: int) -> float:
    """The process's resident memory (VmRSS) in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024


@pytest.mark.app
def test_memory_stays_bounded_over_many_mixed_requests(tmp_path, capsys):
    started = time.perf_counter()
    with served(ROOT, tmp_path / "app.log") as (url, process):
        client = None
        for i in range(REQUESTS):
            if i % 200 == 0:
                client = Client(url, verbose=False)  # a new visitor's session now and then
            api, arguments = MIXED[i % len(MIXED)]
            assert call(client, api, **arguments(i))
            if i + 1 == BASELINE:
                baseline = resident_mb(process.pid)
        final = resident_mb(process.pid)
    with capsys.disabled():
        print(f"\nresident memory: {baseline:.0f} MB after {BASELINE} requests, {final:.0f} MB after {REQUESTS} "
              f"({final - baseline:+.0f} MB) in {time.perf_counter() - started:.0f} s")
    assert final - baseline < 100


def test_gradios_temporary_files_are_deleted_on_a_schedule():
    frequency, age = build_demo().delete_cache
    assert (frequency, age) == DELETE_CACHE
    assert 0 < frequency <= age <= images.GIF_MAX_AGE_SECONDS  # checked often, and nothing outlives the app's GIFs


def limits_table() -> dict[str, str]:
    """The README's Limits table: {first cell: second cell}."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Limits", 1)[1].split("\n#", 1)[0]
    return {cells[1].strip(): cells[2].strip() for line in section.splitlines()
            if (cells := line.split("|")) and len(cells) > 3 and not set(cells[1]) <= {"-", " "}}


def test_every_bound_in_the_code_is_in_the_readme():
    bounds = {  # first cell of the README's row: every number that must be in its second cell
        "prompt, text to score": [MAX_TEXT_CHARS],
        "tokens to generate": [text_api.MAX_NEW_TOKENS, text_api.MAX_CONTINUATIONS, text_api.MAX_CONTINUATION_TOKENS],
        "image prompt": [diffusion_api.MAX_PROMPT_CHARS],
        "guidance scale, steps, eta": [diffusion_api.MAX_GUIDANCE, diffusion_api.MAX_STEPS],
        "images per request, interpolation frames, t": [diffusion_api.MAX_IMAGES, diffusion_api.MAX_FRAMES, 999],
        "pixel images per request, pixel top-k": [pixels_api.MAX_IMAGES],
        "race diffusion steps": [diffusion_api.MAX_STEPS],
        "GAN images, interpolation frames, image index, discriminated images": [
            gan_api.MAX_SAMPLES, gan_api.MAX_FRAMES, gan_api.MAX_SAMPLES - 1, gan_api.MAX_DISCRIMINATED],
        "GAN latent walk (on the page)": [gan_handlers.MAX_WALK_POINTS, gan_handlers.MAX_FRAMES_PER_LEG],
        "toy GAN learning rates, D steps, steps per call": [toy2d.LR_MAX, *toy2d.D_STEPS_RANGE,
                                                            toy_gan_tab.MAX_STEPS_PER_CALL, toy2d.MAX_TOTAL_STEPS],
        "toy GAN networks and batch": [*toy2d.BATCH_RANGE, *toy2d.LATENT_RANGE, *toy2d.HIDDEN_RANGE,
                                       *toy2d.DEPTH_RANGE],
        "shared links": [share.MAX_SHARED_TEXT],
    }
    table = limits_table()
    for row, numbers in bounds.items():
        assert row in table, f"no README Limits row {row!r}"
        written = set(re.findall(r"\d[\d,.]*", table[row].replace(",", "")))
        missing = [n for n in numbers if f"{n:g}" not in {f"{float(w):g}" for w in written if w.strip(".")}]
        assert missing == [], (row, missing, table[row])
