"""The pixel and Compare tabs in a real Chromium (Playwright): pixel-by-pixel drawing, the table, a race."""
import pytest

from tests.test_browser import TIMEOUT, open_tab, screenshot, set_number

pytestmark = pytest.mark.browser


def test_pixels_are_drawn_and_any_pixel_can_be_inspected(page):
    open_tab(page, "Autoregressive (pixels)", "#pixels-draw")
    set_number(page, "pixels-count", 1)
    page.click("#pixels-draw")
    page.wait_for_selector("#pixels-stats:has-text('1 images')", timeout=TIMEOUT)
    page.wait_for_selector("#pixels-canvas img", timeout=TIMEOUT)
    page.wait_for_selector("#pixels-distribution .js-plotly-plot", timeout=TIMEOUT)
    set_number(page, "pixels-inspector", 400)
    page.wait_for_selector("#pixels-inspect-caption:has-text('pixel 400 of 784')", timeout=TIMEOUT)
    screenshot(page, "pixels")
    assert not page.console_errors, page.console_errors


def test_compare_tab_shows_the_measured_table_and_runs_a_race(page):
    open_tab(page, "Compare", "#race-button")
    assert "Single forward pass" in page.locator("#compare-table").inner_text()
    assert "as many images as the diffusion model" in page.locator("#compare-costs").inner_text()
    page.wait_for_selector("#quality-speed-plot .js-plotly-plot", timeout=TIMEOUT)
    page.wait_for_selector("#compare-curves .js-plotly-plot", timeout=TIMEOUT)
    page.click("#race-button")
    page.wait_for_selector("#race-table:has-text('pixel by pixel')", timeout=TIMEOUT)
    for family in ("gan", "diffusion", "pixels"):
        page.wait_for_selector(f"#race-{family} img", timeout=TIMEOUT)
    screenshot(page, "compare")
    assert not page.console_errors, page.console_errors
