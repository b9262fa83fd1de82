"""The diffusion tab in a real Chromium (Playwright): sampling shows images, the film strip, scrubbing, morphs."""
import pytest

from tests.test_browser import TIMEOUT, open_tab, screenshot, set_number

pytestmark = pytest.mark.browser


def test_sampling_shows_images_film_strip_and_steps(page):
    open_tab(page, "Diffusion (images)", "#diffuse-button")
    set_number(page, "diffusion-steps", 12)
    set_number(page, "diffusion-count", 4)
    page.click("#diffuse-button")
    page.wait_for_selector("#diffusion-stats:has-text('4 images')", timeout=TIMEOUT)
    assert page.locator("#diffusion-gallery img").count() == 4
    page.wait_for_selector("#film-strip img", timeout=TIMEOUT)
    page.wait_for_selector("#scrub-caption:has-text('Step 1 of 12')", timeout=TIMEOUT)
    page.wait_for_selector("#diffusion-gif img", timeout=TIMEOUT)
    page.wait_for_selector("#similarity-plot .js-plotly-plot", timeout=TIMEOUT)
    set_number(page, "diffusion-scrub", 12)
    page.wait_for_selector("#scrub-caption:has-text('Step 12 of 12')", timeout=TIMEOUT)
    screenshot(page, "diffusion-sample")
    assert not page.console_errors, page.console_errors


def test_forward_process_and_interpolation(page):
    open_tab(page, "Diffusion (images)", "#diffuse-button")
    page.get_by_role("tab", name="Forward process").click()
    page.wait_for_selector("#forward-text:has-text('At t = 300')", timeout=TIMEOUT)
    set_number(page, "forward-t", 900)
    page.wait_for_selector("#forward-text:has-text('At t = 900')", timeout=TIMEOUT)
    screenshot(page, "diffusion-forward")

    page.get_by_role("tab", name="Noise interpolation").click()
    set_number(page, "diffusion-steps", 8)
    page.click("#interpolate-button")
    page.wait_for_selector("#morph-strip img", timeout=TIMEOUT)
    screenshot(page, "diffusion-interpolation")
    assert not page.console_errors, page.console_errors
