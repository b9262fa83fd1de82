"""The views inside the models in a real Chromium (Playwright): the text model's tokens, data flow, attention and
logit lens, and the pixel model's gaze; on a desktop and a phone."""
import json

import pytest

from genmodels.paths import ASSETS
from tests.test_browser import TIMEOUT, open_tab, screenshot, set_number
from tests.test_browser_classroom import OVERFLOW_JS, VIEWPORTS

pytestmark = pytest.mark.browser
IN_VIEW_JS = """(id) => { const box = document.getElementById(id).getBoundingClientRect();
                         return box.top < window.innerHeight && box.bottom > 0; }"""


def open_inside(page) -> None:
    open_tab(page, "Autoregressive (text)", "#next-token-button")
    page.get_by_role("tab", name="Inside the model", exact=True).click()
    for view in ("#inside-lens table", "#inside-heads .js-plotly-plot", "#inside-matrix .js-plotly-plot"):
        page.wait_for_selector(view, timeout=TIMEOUT)


def test_inside_the_text_model_every_view_answers_and_the_flow_links_to_them(page):
    open_inside(page)
    assert "22 tokens" in page.locator("#inside-summary").inner_text()  # the initial prompt, computed on arrival
    assert page.locator("#inside-tokens .gm-chip").count() == 22
    assert page.locator("#inside-lens .gm-pick").count() >= 1
    assert "= the model" in page.locator("#inside-lens").inner_text()
    set_number(page, "inside-head", 2)
    page.wait_for_selector("#inside-matrix .gtitle:has-text('Block 4, head 2')", timeout=TIMEOUT)
    page.locator("#inside-flow a", has_text="block 1 attention").click()
    page.wait_for_function(IN_VIEW_JS, arg="inside-heads", timeout=TIMEOUT)
    page.locator("#text-prompt textarea").fill("O gentle night")
    page.click("#inside-button")
    page.wait_for_selector("#inside-summary:has-text('4 tokens')", timeout=TIMEOUT)  # start, O, gentle, night
    assert page.locator("#inside-tokens .gm-chip").count() == 4
    screenshot(page, "text-inside")
    assert not page.console_errors, page.console_errors


def test_the_pixel_gaze_follows_the_inspected_pixel(page):
    open_tab(page, "Autoregressive (pixels)", "#pixels-draw")
    page.wait_for_selector("#pixels-gaze .js-plotly-plot", timeout=TIMEOUT)  # the opening drawing's hardest pixel
    set_number(page, "pixels-inspector", 400)
    page.wait_for_selector("#pixels-gaze .gtitle:has-text('Predicting pixel 400')", timeout=TIMEOUT)
    page.wait_for_selector("#pixels-inspect-caption:has-text('class token')", timeout=TIMEOUT)
    blocks = json.loads((ASSETS / "pixels/pixel_transformer.json").read_text())["config"]["n_layer"]
    assert page.locator("#pixels-gaze .subplot").count() == blocks + 1  # the mean and each block
    screenshot(page, "pixels-gaze")
    assert not page.console_errors, page.console_errors


def test_the_inside_views_fit_a_phone(browser, app_url):
    context = browser.new_context(viewport=VIEWPORTS["phone"])
    page = context.new_page()
    page.goto(app_url, wait_until="load")
    open_inside(page)
    assert page.evaluate(OVERFLOW_JS) <= 1, "the text model's inside views overflow a phone"
    open_tab(page, "Autoregressive (pixels)", "#pixels-draw")
    page.wait_for_selector("#pixels-gaze .js-plotly-plot", timeout=TIMEOUT)
    assert page.evaluate(OVERFLOW_JS) <= 1, "the pixel gaze overflows a phone"
    context.close()
