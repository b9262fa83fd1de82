"""The GAN tab in a real Chromium (Playwright): samples, a picked interpolation, the replay, a live 2-D GAN step."""
import pytest

from tests.test_browser import TIMEOUT, open_tab, screenshot, set_number

pytestmark = pytest.mark.browser


def test_samples_then_an_interpolation_between_picked_images(page):
    open_tab(page, "GAN (images)", "#gan-sample-button")
    page.click("#gan-sample-button")
    page.wait_for_selector("#gan-sample-stats:has-text('24 images')", timeout=TIMEOUT)
    assert page.locator("#gan-gallery img").count() == 24
    assert "P(real)" in page.locator("#gan-gallery").inner_text()
    page.locator("#gan-gallery img").nth(5).click()  # end A becomes (seed 0, image 5)
    page.wait_for_function("document.querySelector('#gan-index-a input')?.value === '5'", timeout=TIMEOUT)
    set_number(page, "gan-frames", 10)
    page.click("#gan-interpolate-button")
    page.wait_for_selector("#gan-interpolation-stats:has-text('10 frames per path')", timeout=TIMEOUT)
    for elem_id in ("gan-linear-strip", "gan-spherical-strip", "gan-pair-gif"):
        page.wait_for_selector(f"#{elem_id} img", timeout=TIMEOUT)
    screenshot(page, "gan-interpolation")
    assert not page.console_errors, page.console_errors


def test_training_replay_and_a_live_toy_gan_step(page):
    open_tab(page, "GAN (images)", "#gan-sample-button")
    page.get_by_role("tab", name="Training replay").click()
    page.wait_for_selector("#gan-replay-caption:has-text('Snapshot')", timeout=TIMEOUT)
    set_number(page, "gan-replay-slider", 3)
    page.wait_for_selector("#gan-replay-caption:has-text('Snapshot 3 of')", timeout=TIMEOUT)
    page.wait_for_selector("#gan-replay-grid img", timeout=TIMEOUT)

    page.get_by_role("tab", name="Live 2-D GAN").click()
    set_number(page, "toy-steps", 50)
    page.click("#toy-train")
    page.wait_for_selector("#toy-stats:has-text('Step 50')", timeout=TIMEOUT)
    page.wait_for_selector("#toy-plane .js-plotly-plot", timeout=TIMEOUT)
    page.wait_for_selector("#toy-curves .js-plotly-plot", timeout=TIMEOUT)
    page.click("#toy-train")
    page.wait_for_selector("#toy-stats:has-text('Step 100')", timeout=TIMEOUT)
    screenshot(page, "gan-toy")
    page.click("#toy-reset")
    page.wait_for_selector("#toy-stats:has-text('Step 0')", timeout=TIMEOUT)
    assert not page.console_errors, page.console_errors


def test_play_keeps_training_and_redrawing_until_pause(page):
    open_tab(page, "GAN (images)", "#gan-sample-button")
    page.get_by_role("tab", name="Live 2-D GAN", exact=True).click()
    page.wait_for_selector("#toy-stats:has-text('Step 0')", timeout=TIMEOUT)  # step 0 on arrival
    page.click("#toy-play")
    # redrawn every 50 steps while it trains: a step between the first redraw and the end of the call shows up
    page.wait_for_function("""() => {
        const m = document.querySelector('#toy-stats').innerText.match(/Step ([\\d,]+)/);
        const step = m ? Number(m[1].replace(/,/g, '')) : 0;
        return step >= 100 && step < 1500; }""", timeout=TIMEOUT)
    page.click("#toy-pause")
    page.wait_for_timeout(1500)
    paused = page.locator("#toy-stats").inner_text()
    page.wait_for_timeout(2000)
    assert page.locator("#toy-stats").inner_text() == paused  # paused: no more steps arrive
    step = int(paused.split("Step ")[1].split()[0].replace(",", ""))
    assert 100 <= step < 2000
    assert not page.console_errors, page.console_errors
