"""Shared fixtures: one launched app per test session, a gradio_client for it, and a Chromium page."""
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

from genmodels.tools.loadtest import free_port, launched_app

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "test-artifacts"


def app_copy(folder: Path) -> Path:
    """What app.py needs (app.py, genmodels/, assets/) copied into `folder`, to damage or watch; returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("app.py", "genmodels", "assets"):
        copy = shutil.copy2 if name.endswith(".py") else shutil.copytree
        kwargs = {} if name.endswith(".py") else dict(ignore=shutil.ignore_patterns("__pycache__"))
        copy(ROOT / name, folder / name, **kwargs)
    return folder


@contextmanager
def served(root: Path, log: Path, **env):
    """`python app.py` run in `root` on a free port (CPU, one thread, temporary files under log's folder; `env`
    adds variables, None removes one): yields (url, process) once it answers, and stops it afterwards."""
    temp = log.parent / "tmp"
    temp.mkdir(exist_ok=True)
    test_env = dict(GENMODELS_DEVICE="cpu", OMP_NUM_THREADS="1", GRADIO_ANALYTICS_ENABLED="False", TMPDIR=str(temp),
                    GRADIO_EXAMPLES_CACHE=None)
    with launched_app(root, log, **(test_env | env)) as app:
        yield app


@contextmanager
def cpu_one_thread():
    """Force the CPU device and one torch thread inside the block (for module-scoped training fixtures)."""
    import torch

    previous, threads = os.environ.get("GENMODELS_DEVICE"), torch.get_num_threads()
    os.environ["GENMODELS_DEVICE"] = "cpu"
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        if previous is None:
            del os.environ["GENMODELS_DEVICE"]
        else:
            os.environ["GENMODELS_DEVICE"] = previous


@pytest.fixture
def one_thread():
    """Tiny models run faster on one thread than fighting other work for two."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def app_url():
    """Launch the real app (committed assets) on a free local port; yield its URL."""
    os.chdir(ROOT)
    from genmodels.ui import build_demo
    from genmodels.ui.demo import CSS, QUEUE, THEME

    demo = build_demo()
    demo.queue(**QUEUE)
    _, url, _ = demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True,
                            quiet=True, theme=THEME, css=CSS)
    yield url.rstrip("/")
    demo.close()


@pytest.fixture(scope="session")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; under CI=true a missing browser fails instead of skipping."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, app_url):
    """A fresh page on the app; console errors are collected in page.console_errors."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    page.goto(app_url, wait_until="load")
    yield page
    context.close()


LAUNCHING_FIXTURES = {"app_url", "client", "browser", "page"}  # each needs the app or Chromium started
LAUNCHING_MARKERS = ("app", "browser")


def pytest_collection_modifyitems(items):
    """Tests that launch the app or a browser are slow: `-m "not slow"` leaves them out of the quick loop."""
    for item in items:
        if LAUNCHING_FIXTURES & set(item.fixturenames) or any(item.get_closest_marker(m) for m in LAUNCHING_MARKERS):
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Save a screenshot of the page when a browser test fails, to see what the user would have seen."""
    outcome = yield
    report = outcome.get_result()
    page = item.funcargs.get("page")
    if report.when == "call" and report.failed and page is not None:
        ARTIFACTS.mkdir(exist_ok=True)
        try:
            page.screenshot(path=str(ARTIFACTS / f"FAILED-{item.name}.png"), full_page=True, timeout=10_000)
        except Exception as error:  # noqa: BLE001 - a hung page must not turn one failure into a crashed run
            report.sections.append(("screenshot", f"no screenshot: {error}"))
