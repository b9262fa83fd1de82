"""The classroom features in Chromium: every tab on a desktop and a phone, shared links, the keyboard, equations."""
import re
from urllib.parse import urlencode

import pytest

from tests.conftest import ARTIFACTS
from tests.test_browser import TIMEOUT, open_tab, screenshot

pytestmark = pytest.mark.browser
TABS = {  # tab name: a control that shows once the tab is open
    "Autoregressive (text)": "#next-token-button", "Autoregressive (pixels)": "#pixels-draw",
    "Diffusion (images)": "#diffuse-button", "GAN (images)": "#gan-sample-button", "Compare": "#race-button",
    "About": "#about-comparison",
}
VIEWPORTS = {"desktop": {"width": 1400, "height": 1000}, "phone": {"width": 390, "height": 844},
             "projector": {"width": 1280, "height": 720}}
SUB_TABS = {  # top tab: its sub-tabs
    "Autoregressive (text)": ["Next token", "Inside the model", "Generate", "Several continuations", "Score a text",
                              "How it was trained", "Your own text"],
    "Autoregressive (pixels)": ["Draw", "How it was trained"],
    "Diffusion (images)": ["Sample", "Compare guidance", "Paths on a map", "Forward process", "Noise interpolation",
                           "How it was trained"],
    "GAN (images)": ["Samples and interpolation", "The discriminator's view", "Healthy vs collapsed",
                     "Training replay", "Live 2-D GAN"],
}
OVERFLOW_JS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def sized_page(browser, app_url, request):
    """A page at the viewport named by the test's parameter, collecting console errors."""
    context = browser.new_context(viewport=VIEWPORTS[request.param])
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    page.goto(app_url, wait_until="load")
    page.viewport_name = request.param
    yield page
    context.close()


@pytest.mark.parametrize("sized_page", ["projector", "phone"], indirect=True)
def test_every_tab_and_sub_tab_is_a_visible_button_in_presenter_mode_and_on_a_phone(sized_page):
    page = sized_page
    page.wait_for_selector("[role=tablist] [role=tab]", timeout=TIMEOUT)
    if page.viewport_name == "projector":
        page.click("#presenter-mode input")
        page.wait_for_timeout(500)
    for name in TABS:  # no "..." menu: each tab is its own button, clicked directly
        page.get_by_role("tab", name=name, exact=True).click()
        for sub_tab in SUB_TABS.get(name, []):
            button = page.get_by_role("tab", name=sub_tab, exact=True)
            assert button.is_visible(), f"{sub_tab} hidden at {page.viewport_name}"
            button.click()
        assert page.locator(".overflow-menu").count() == 0
        assert page.evaluate(OVERFLOW_JS) <= 1, f"{name} overflows sideways at {page.viewport_name}"
    screenshot(page, f"all-tabs-{page.viewport_name}")


@pytest.mark.parametrize("sized_page", ["desktop", "phone"], indirect=True)
def test_every_tab_renders_without_overflow_or_console_errors(sized_page):
    page = sized_page
    for name, ready in TABS.items():
        open_tab(page, name, ready)
        page.wait_for_timeout(300)  # let plots and KaTeX lay out
        assert page.evaluate(OVERFLOW_JS) <= 1, f"{name} overflows sideways at {page.viewport_name} width"
        slug = re.sub(r"[^a-z]+", "-", name.lower()).strip("-")
        screenshot(page, f"tab-{slug}-{page.viewport_name}")
    assert not page.console_errors, page.console_errors


def test_a_shared_url_restores_its_settings_and_reproduces_the_output(page, app_url, client):
    settings = {"prompt": "FIRST CITIZEN.\nThe bread is dear, & the winter long,", "temperature": 1.3,
                "top_k": 50, "top_p": 0.9, "seed": 77}
    query = urlencode({"tab": "text", **{f"text.{k}": v for k, v in settings.items()}})
    page.goto(f"{app_url}?{query}", wait_until="load")
    page.wait_for_selector("#link-notice:has-text('Settings restored')", timeout=TIMEOUT)
    prompt = page.locator("#text-prompt textarea")
    assert prompt.input_value() == settings["prompt"]
    assert page.locator("#text-temperature input[type=number]").input_value() == "1.3"
    assert page.locator("#text-top-k input[type=number]").input_value() == "50"
    assert page.locator("#text-seed input").input_value() == "77"

    page.click("#next-token-button")
    page.wait_for_function(f"document.querySelector('#text-prompt textarea').value.length > {len(settings['prompt'])}",
                           timeout=TIMEOUT)
    expected = client.predict(*settings.values(), api_name="/next_token")["text"]
    assert prompt.input_value() == expected
    assert not page.console_errors, page.console_errors


def test_copy_link_puts_the_tab_s_settings_in_a_link_that_restores_them(page, browser):
    open_tab(page, "Autoregressive (pixels)", "#pixels-draw")
    page.locator("#pixels-class input").click()
    page.get_by_role("option", name="Trouser", exact=True).click()
    page.wait_for_function("document.querySelector('#pixels-class input').value === 'Trouser'", timeout=TIMEOUT)
    count = page.locator("#pixels-count input[type=number]")
    count.fill("3")
    count.press("Enter")
    page.click("#pixels-copy-link")
    page.wait_for_function("document.querySelector('#pixels-link textarea').value.includes('tab=pixels')",
                           timeout=TIMEOUT)
    link = page.locator("#pixels-link textarea").input_value()
    assert "pixels.label=Trouser" in link and "pixels.count=3" in link
    assert page.url == link  # the address bar holds the link too

    fresh = browser.new_page(viewport={"width": 1400, "height": 1000})
    fresh.goto(link, wait_until="load")
    fresh.wait_for_selector("#link-notice:has-text('Settings restored')", timeout=TIMEOUT)
    assert fresh.locator("#pixels-draw").is_visible()  # the link opened its tab
    assert fresh.locator("#pixels-class input").input_value() == "Trouser"
    assert fresh.locator("#pixels-count input[type=number]").input_value() == "3"
    fresh.close()


def test_the_keyboard_alone_reaches_and_presses_next_token(page):
    page.locator("#text-prompt textarea").focus()
    page.keyboard.type("KING.\n")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "next-token-button":
            break
    else:
        pytest.fail("Tab never reached the Next token button")
    page.keyboard.press("Enter")
    page.wait_for_selector("#next-token-plot .js-plotly-plot .bars path", timeout=TIMEOUT)


def test_equations_open_as_rendered_math(page):
    open_tab(page, "Diffusion (images)", "#diffuse-button")
    section = page.locator("#diffusion-equations")
    section.get_by_text("The equations").click()
    section.locator(".katex").first.wait_for(timeout=TIMEOUT)
    assert section.locator(".katex").count() >= 10
    assert "only at" in section.inner_text()  # the one-step form's caveat
    ARTIFACTS.mkdir(exist_ok=True)
    section.screenshot(path=str(ARTIFACTS / "equations-diffusion.png"))


def test_images_offer_png_downloads_and_describe_themselves(page):
    open_tab(page, "GAN (images)", "#gan-sample-button")
    page.click("#gan-interpolate-button")
    strip = page.locator("#gan-linear-strip img")
    strip.wait_for(timeout=TIMEOUT)
    assert strip.get_attribute("alt") == "Linear path"
    assert strip.get_attribute("src").split("?")[0].endswith(".png")
    assert page.locator("#gan-linear-strip button[aria-label*='ownload'], #gan-linear-strip a[download]").count() >= 1
    assert not page.console_errors, page.console_errors


def test_a_cached_example_is_served_from_the_cache_to_the_next_visitor(page, browser, app_url):
    open_tab(page, "Diffusion (images)", "#diffuse-button")
    page.locator("#diffusion-examples").get_by_text("a handbag").click()
    page.wait_for_selector("#diffusion-stats:has-text('cached example')", timeout=TIMEOUT)
    first = page.locator("#diffusion-stats").inner_text()

    visitor = browser.new_page(viewport={"width": 1400, "height": 1000})
    visitor.goto(app_url, wait_until="load")
    open_tab(visitor, "Diffusion (images)", "#diffuse-button")
    visitor.locator("#diffusion-examples").get_by_text("a handbag").click()
    visitor.wait_for_selector("#diffusion-stats:has-text('cached example')", timeout=TIMEOUT)
    # The stats quote the sampling time to 10 ms: the same text means the first visitor's run, served again.
    assert visitor.locator("#diffusion-stats").inner_text() == first
    assert visitor.locator("#diffusion-prompt textarea").input_value() == "a handbag"
    assert visitor.locator("#diffusion-gallery img").count() == 8
    visitor.close()


def test_a_link_made_on_a_sub_tab_reopens_that_sub_tab(page, browser):
    open_tab(page, "Diffusion (images)", "#diffuse-button")
    page.get_by_role("tab", name="Forward process", exact=True).click()
    page.wait_for_selector("#forward-t", timeout=TIMEOUT)
    page.click("#diffusion-copy-link")
    page.wait_for_function("document.querySelector('#diffusion-link textarea').value.includes('tab=diffusion')",
                           timeout=TIMEOUT)
    link = page.locator("#diffusion-link textarea").input_value()
    assert "diffusion.view=forward" in link
    assert page.locator("#diffusion-link-status").inner_text().strip()  # copied, or why not and what to do

    fresh = browser.new_page(viewport={"width": 1400, "height": 1000})
    fresh.goto(link, wait_until="load")
    fresh.wait_for_selector("#link-notice:has-text('Settings restored')", timeout=TIMEOUT)
    fresh.wait_for_selector("#forward-t", state="visible", timeout=TIMEOUT)  # the Forward process sub-tab, open
    assert fresh.get_by_role("tab", name="Forward process", exact=True).get_attribute("aria-selected") == "true"
    fresh.close()


ARRIVAL = {  # top tab: (sub-tab or None, what its result looks like on the page), shown without any click
    "Autoregressive (text)": [(None, "#next-token-plot .js-plotly-plot")],
    "Autoregressive (pixels)": [(None, "#pixels-gallery img"), ("How it was trained", "#pixels-timeline-made img")],
    "Diffusion (images)": [(None, "#diffusion-gallery img"), ("Noise interpolation", "#morph-strip img"),
                           ("How it was trained", "#diffusion-timeline-made img")],
    "GAN (images)": [(None, "#gan-gallery img"), ("The discriminator's view", "#gan-p-real-plot .js-plotly-plot"),
                     ("Healthy vs collapsed", "#gan-collapsed img"), ("Live 2-D GAN", "#toy-plane .js-plotly-plot")],
    "Compare": [(None, "#race-gan img")],
}


def test_every_tab_shows_a_computed_result_on_arrival_without_a_click(page):
    page.wait_for_selector("#next-token-plot .js-plotly-plot", timeout=TIMEOUT)  # the first tab, at page load
    for name, views in ARRIVAL.items():
        open_tab(page, name, "[role=tablist]")
        for sub_tab, result in views:
            if sub_tab:
                page.get_by_role("tab", name=sub_tab, exact=True).click()
            page.wait_for_selector(result, timeout=TIMEOUT)
    assert not page.console_errors, page.console_errors


def test_a_timeline_link_opens_its_snapshot_and_play_walks_through_training(page, app_url):
    page.goto(f"{app_url}?tab=pixels&pixels.view=training&pixels.timeline=2", wait_until="load")
    page.wait_for_selector("#link-notice:has-text('Settings restored')", timeout=TIMEOUT)
    caption = page.locator("#pixels-timeline-caption")
    caption.get_by_text("Snapshot 2 of").wait_for(timeout=TIMEOUT)
    assert page.locator("#pixels-timeline-made img").is_visible()
    last = re.search(r"Snapshot 2 of (\d+)", caption.inner_text()).group(1)
    page.click("#pixels-timeline-play")
    caption.get_by_text("Snapshot 1 of").wait_for(timeout=TIMEOUT)  # Play starts from the first snapshot
    caption.get_by_text(f"Snapshot {last} of {last}").wait_for(timeout=TIMEOUT)
    assert page.locator("#pixels-timeline input[type=number]").input_value() == last
    assert not page.console_errors, page.console_errors
