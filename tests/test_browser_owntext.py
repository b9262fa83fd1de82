"""Your own text in a real Chromium: the untrained model on arrival, a few seconds of training, then a sample."""
import pytest

from tests.test_browser import TIMEOUT, open_tab, screenshot, set_number

pytestmark = pytest.mark.browser


def test_train_on_your_text_for_a_few_seconds_then_sample(page):
    open_tab(page, "Your own text", "#owntext-train")
    page.wait_for_selector("#owntext-stats:has-text('Untrained')", timeout=TIMEOUT)  # computed on arrival
    page.wait_for_selector("#owntext-chart .js-plotly-plot", timeout=TIMEOUT)
    set_number(page, "owntext-seconds", 5)
    page.click("#owntext-train")
    page.wait_for_selector("#owntext-stats:has-text('Trained after')", timeout=TIMEOUT)
    assert page.locator("#owntext-sample textarea").input_value().strip()
    page.click("#owntext-sample-button")
    page.wait_for_selector("#owntext-sample-stats:has-text('200 characters')", timeout=TIMEOUT)
    page.wait_for_selector("#owntext-distribution .js-plotly-plot", timeout=TIMEOUT)
    page.fill("#owntext-text textarea", "too short")
    page.wait_for_selector("#owntext-size:has-text('at least 200')", timeout=TIMEOUT)
    screenshot(page, "owntext")
    assert not page.console_errors, page.console_errors
