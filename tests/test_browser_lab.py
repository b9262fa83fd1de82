"""The 2-D lab in a real Chromium (Playwright): it opens on step 0, plays and pauses, races, and takes clicked
points as its data."""
import pytest

from tests.test_browser import TIMEOUT, open_tab, screenshot

pytestmark = pytest.mark.browser
STEPS_JS = """() => {
    const m = document.querySelector('#lab-stats')?.innerText.match(/training steps\\s+([\\d,]+)/);
    return m ? Number(m[1].replace(/,/g, '')) : -1; }"""


def diffusion_steps(page) -> int:
    return page.evaluate(STEPS_JS)


def test_play_trains_all_three_until_pause(page):
    open_tab(page, "2-D lab", "#lab-play")
    page.wait_for_selector("#lab-stats:has-text('modes covered')", timeout=TIMEOUT)  # step 0 on arrival
    for family in ("diffusion", "autoregressive", "gan"):
        page.wait_for_selector(f"#lab-{family}-plane .js-plotly-plot", timeout=TIMEOUT)
    assert diffusion_steps(page) == 0
    page.click("#lab-play")
    page.wait_for_function(f"({STEPS_JS})() >= 100", timeout=TIMEOUT)
    page.click("#lab-pause")
    page.wait_for_timeout(1500)
    paused = diffusion_steps(page)
    page.wait_for_timeout(2000)
    assert diffusion_steps(page) == paused  # paused: no more redraws arrive
    assert 100 <= paused < 2000
    screenshot(page, "lab-played")
    assert not page.console_errors, page.console_errors


def test_a_race_on_clicked_points(page):
    open_tab(page, "2-D lab", "#lab-play")
    page.wait_for_selector("#lab-stats:has-text('modes covered')", timeout=TIMEOUT)
    canvas = page.locator("#lab-canvas img")
    canvas.wait_for(timeout=TIMEOUT)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    for fx, fy in ((0.3, 0.5), (0.7, 0.5)):  # two points, left and right of the center
        page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
        page.wait_for_timeout(800)
    page.wait_for_function("document.querySelector('#lab-points textarea, #lab-points input').value.split(';')"
                           ".length === 2", timeout=TIMEOUT)
    page.click("#lab-race")
    page.wait_for_selector("#lab-stats:has-text('modes covered (of 2)')", timeout=TIMEOUT)
    # each family stops once it covers both points (or at the cap), then the ranking shows
    page.wait_for_selector("#lab-stats:has-text('Race result')", timeout=TIMEOUT * 3)
    screenshot(page, "lab-race")
    assert not page.console_errors, page.console_errors
