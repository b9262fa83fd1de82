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


def test_a_phone_link_restores_the_collapse_preset_then_step_d_and_step_g_update_one_network(page, app_url):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{app_url}/?tab=gan&gan.view=live&gan.toy_lr_g=0.002&gan.toy_lr_d=0.0002", wait_until="load")
    page.wait_for_selector("#toy-stats:has-text('Step 0')", timeout=TIMEOUT)
    preset = "document.querySelector('#toy-preset input')?.value"
    page.wait_for_function(f"{preset} === 'Ring of 8: mode collapse'", timeout=TIMEOUT)  # the box follows the link
    page.click("#toy-step-d")
    page.wait_for_selector("#toy-stats:has-text('Step 0, 1 D update ')", timeout=TIMEOUT)
    page.click("#toy-step-g")
    page.wait_for_selector("#toy-stats:has-text('Step 1, 1 D update ')", timeout=TIMEOUT)
    plane = page.locator("#toy-plane .js-plotly-plot").bounding_box()
    assert plane["width"] >= 300  # the plane fills a phone's width; its colour bar sits under it
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    cut = page.evaluate("""Array.from(document.querySelectorAll('.katex-display')).filter(e => e.offsetParent)
        .filter(e => getComputedStyle(e).overflowX === 'visible' && e.scrollWidth > e.clientWidth + 1).length""")
    assert cut == 0  # a wide equation scrolls in its own box
    screenshot(page, "gan-toy-phone")
    page.locator("#toy-lr-g input").fill("0.003")
    page.locator("#toy-lr-g input").press("Tab")
    page.wait_for_function(f"{preset} === 'Custom'", timeout=TIMEOUT)  # a hand-edited setting matches no preset
    assert not page.console_errors, page.console_errors
