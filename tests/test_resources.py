"""Resources: memory stays bounded over many requests, temporary files are cleaned on a schedule, and every bound
on a request is in the code and in the README's Limits table."""
import math
import os
import re
import time
from pathlib import Path

import gradio as gr
import pytest
from fastapi.testclient import TestClient
from gradio.routes import App
from gradio_client import Client
from PIL import Image

from genmodels import timeline_requests as timeline
from genmodels import validation
from genmodels.diffusion import requests as diffusion
from genmodels.eval import requests as compare
from genmodels.gan import requests as gan
from genmodels.gan import toy2d
from genmodels.lab import requests as lab
from genmodels.owntext import requests as owntext
from genmodels.pixels import requests as pixels
from genmodels.text import requests as text
from genmodels.ui import images, share
from genmodels.ui.demo import build_demo
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


def test_gradios_copies_of_served_files_are_aged_out_and_deleted_when_the_server_stops(tmp_path):
    demo = build_demo()
    frequency, age = demo.delete_cache
    assert 0 < frequency <= age <= images.GIF_MAX_AGE_SECONDS  # checked often, and nothing outlives the app's GIFs
    image = next(block for block in demo.blocks.values() if isinstance(block, gr.Image))
    Image.new("L", (28, 28)).save(tmp_path / "served.png")
    cached = Path(image.move_resource_to_block_cache(tmp_path / "served.png"))  # what serving an image does
    with TestClient(App.create_app(demo)):  # the server's lifespan: its start, then its stop
        assert cached.exists()  # younger than `age`: kept while the server runs
    assert not cached.exists()


def limits_table() -> dict[str, str]:
    """The README's Limits table: {first cell: second cell}."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Limits", 1)[1].split("\n#", 1)[0]
    return {cells[1].strip(): cells[2].strip() for line in section.splitlines()
            if (cells := line.split("|")) and len(cells) > 3 and not set(cells[1]) <= {"-", " "}}


def numbers_in(cell: str) -> set[str]:
    """Every number written in a README cell, as `{:g}` text (1,000 and 2^31 - 1 included)."""
    written = {f"{float(w):g}" for w in re.findall(r"-?\d[\d,.]*", cell.replace(",", "")) if w.strip(".-")}
    return written | ({f"{validation.MAX_SEED:g}"} if "2^31 - 1" in cell else set())


def limit_numbers(limit) -> list[float]:
    """The numbers a limit from a family's LIMITS table sets: a bound's ends (0 and infinity say nothing), a text's
    length."""
    if isinstance(limit, validation.Text):
        return [limit.max_chars]
    if isinstance(limit, validation.Bound):
        return [n for n in (limit.low, limit.high) if n not in (0, math.inf)]
    return []  # a choice names its options in the README's API table


def test_every_limit_in_the_families_tables_is_in_the_readme():
    written = set().union(*map(numbers_in, limits_table().values()))
    tables = {"text": text.LIMITS, "diffusion": diffusion.LIMITS, "gan": gan.LIMITS, "pixels": pixels.LIMITS,
              "compare": compare.LIMITS, "lab": lab.LIMITS, "owntext": owntext.LIMITS, "timeline": timeline.LIMITS,
              "links": {"text": validation.Text("Shared text", share.MAX_SHARED_TEXT)}}
    missing = [(family, name, n) for family, limits in tables.items() for name, limit in limits.items()
               for n in limit_numbers(limit) if f"{n:g}" not in written]
    assert missing == []
    assert f"{toy2d.MAX_TOTAL_STEPS:g}" in written  # a session's total, checked by the toy GAN itself


def test_the_readme_rows_name_the_limits_that_the_tables_hold():
    table = limits_table()
    rows = {  # first cell of a README row: numbers that must be in its second cell
        "prompt, text to score": [text.LIMITS["prompt"].max_chars],
        "tokens to generate": [text.MAX_NEW_TOKENS, text.MAX_CONTINUATIONS, text.MAX_CONTINUATION_TOKENS],
        "image prompt": [diffusion.MAX_PROMPT_CHARS],
        "guidance scale, steps, eta": [diffusion.MAX_GUIDANCE, diffusion.MAX_STEPS],
        "GAN images, interpolation frames, image index, discriminated images": [
            gan.MAX_SAMPLES, gan.MAX_FRAMES, gan.MAX_SAMPLES - 1, gan.MAX_DISCRIMINATED],
    }
    for row, numbers in rows.items():
        assert row in table, f"no README Limits row {row!r}"
        assert [n for n in numbers if f"{n:g}" not in numbers_in(table[row])] == [], (row, table[row])
