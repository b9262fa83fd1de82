"""Each feature of the text tab in a real Chromium (Playwright): charts, streaming text, token inspection."""
import re

import pytest

from tests.conftest import ARTIFACTS

pytestmark = pytest.mark.browser
TIMEOUT = 120_000  # ms; the CI machine has 2 slow cores


def set_number(page, elem_id: str, value) -> None:
    """Type a value into a slider's number box and commit it."""
    box = page.locator(f"#{elem_id} input[type=number]")
    box.fill(str(value))
    box.press("Enter")


def open_tab(page, name: str, ready_selector: str) -> None:
    """Click a top-level tab (through the "More tabs" menu where a narrow screen hides it) and wait until its
    first control is on the page."""
    page.wait_for_selector("[role=tablist] [role=tab]", timeout=TIMEOUT)
    tab = page.get_by_role("tab", name=name, exact=True)
    if tab.count() and tab.first.is_visible():
        tab.first.click()
    else:
        page.locator("button[aria-label='More tabs']:visible").first.click()
        page.locator(".overflow-dropdown button", has_text=name).first.click()
    page.wait_for_selector(ready_selector, timeout=TIMEOUT)


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_next_token_draws_the_distribution_and_sliders_redraw_it(page):
    prompt = page.locator("#text-prompt textarea")
    prompt.fill("KING.\nBring me the map, and let the council wait.\n\nQUEEN.\n")
    page.click("#next-token-button")
    # the arrival view has drawn the plot already: wait for the click's own answer, the drawn token appended
    page.wait_for_function("document.querySelector('#text-prompt textarea').value.length > 58", timeout=TIMEOUT)
    page.wait_for_selector("#next-token-plot .js-plotly-plot .bars path", timeout=TIMEOUT)
    page.wait_for_selector("#cumulative-plot .js-plotly-plot", timeout=TIMEOUT)
    stats = page.locator("#next-token-stats")
    assert "Candidates left" in stats.inner_text() and "Drawn" in stats.inner_text()
    assert len(prompt.input_value()) > len("KING.\nBring me the map, and let the council wait.\n\nQUEEN.\n")
    assert page.locator("#next-token-plot .bars path").count() >= 20
    screenshot(page, "text-next-token")

    set_number(page, "text-temperature", 0)  # redraws from the stored logits: one candidate is left
    page.wait_for_function("document.querySelector('#next-token-stats').innerText.includes('Candidates left:** 1.')"
                           " || document.querySelector('#next-token-stats').innerText.includes('Candidates left: 1.')",
                           timeout=TIMEOUT)
    assert not page.console_errors, page.console_errors


def test_generate_streams_colored_text_and_tokens_can_be_inspected(page):
    page.locator("#text-prompt textarea").fill("O gentle night, that hides the lover's face,\n")
    page.get_by_role("tab", name="Generate").click()
    set_number(page, "generate-length", 40)
    page.click("#generate-button")
    page.wait_for_selector("#generation-stats:has-text('40 tokens')", timeout=TIMEOUT)
    tokens = page.locator("#generated-text .token")  # newline tokens render as line breaks, not chips
    assert tokens.count() >= 20
    legend = page.locator("#generated-text [data-testid='highlighted-text:category-legend']").inner_text()
    assert "p ≥ 50%" in legend and "p < 1%" in legend

    clicked = tokens.nth(6)
    clicked_text = clicked.inner_text().strip()
    clicked.click()
    title = page.locator("#token-plot .gtitle")
    page.wait_for_function("(t) => { const e = document.querySelector('#token-plot .gtitle');"
                           " return e && e.textContent.startsWith('Token ') && !e.textContent.startsWith('Token 1:')"
                           " && e.textContent.replaceAll('␣', ' ').includes(t); }", arg=clicked_text, timeout=TIMEOUT)
    assert re.match(r"Token \d+: ", title.text_content())
    assert re.search(r"Entropy", page.locator("#token-stats").inner_text())
    marked = page.locator("#generated-text .token[style*='204, 121, 167']")  # the inspected token's own color
    page.wait_for_function("(t) => [...document.querySelectorAll('#generated-text .token')].filter(e => "
                           "(e.getAttribute('style') || '').includes('204, 121, 167')).map(e => e.innerText.trim())"
                           ".join() === t", arg=clicked_text, timeout=TIMEOUT)
    assert marked.count() == 1
    # the chart sits below the whole text: the click scrolls it on screen
    page.wait_for_function("() => { const r = document.querySelector('#token-plot').getBoundingClientRect();"
                           " return r.top >= 0 && r.bottom <= innerHeight + 1; }", timeout=TIMEOUT)
    screenshot(page, "text-generate")
    assert not page.console_errors, page.console_errors


def test_in_dark_mode_charts_and_token_colors_stay_readable(page, app_url):
    page.goto(f"{app_url}/?__theme=dark", wait_until="load")
    page.wait_for_selector("#next-token-plot .js-plotly-plot .xtick text", timeout=TIMEOUT)
    page.wait_for_function("document.body.classList.contains('dark')", timeout=TIMEOUT)
    colors = page.evaluate("""() => {
      const plot = document.querySelector('#next-token-plot .js-plotly-plot');
      const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
      return {paper: getComputedStyle(plot.querySelector('.main-svg')).backgroundColor,
              areas: [...plot.querySelectorAll('rect.bg')].map(e => getComputedStyle(e).fill),
              tick: rgb(getComputedStyle(plot.querySelector('.xtick text')).fill),
              title: rgb(getComputedStyle(plot.querySelector('.gtitle')).fill)}; }""")
    assert colors["paper"] == "rgba(0, 0, 0, 0)"  # the page shows through the chart: no white paper
    assert colors["areas"] and "rgb(255, 255, 255)" not in colors["areas"], colors["areas"]  # plot area, legend
    assert min(colors["tick"][:3]) > 180 and min(colors["title"][:3]) > 180  # light text on the dark page

    page.get_by_role("tab", name="Generate").click()
    set_number(page, "generate-length", 8)
    page.click("#generate-button")
    page.wait_for_selector("#generation-stats:has-text('8 tokens')", timeout=TIMEOUT)
    inks = page.evaluate("() => [...document.querySelectorAll('#generated-text .token.highlighted, "
                         "#generated-text .legend-item')].map(e => getComputedStyle(e).color)")
    assert inks and all(min(map(int, re.findall(r"\d+", ink)[:3])) > 180 for ink in inks), inks  # light on the colors
    screenshot(page, "text-dark")
    assert not page.console_errors, page.console_errors


def test_continuations_and_scoring(page):
    page.get_by_role("tab", name="Several continuations").click()
    set_number(page, "continuation-length", 15)
    page.click("#continuations-button")
    page.wait_for_function("document.querySelectorAll('#continuation-cards .gm-card').length === 4", timeout=TIMEOUT)
    heads = page.locator("#continuation-cards .gm-card-head").all_inner_texts()
    assert [h.split(" · ")[0] for h in heads] == ["seed 0", "seed 1", "seed 2", "seed 3"]
    screenshot(page, "text-continuations")

    page.get_by_role("tab", name="Score a text").click()
    page.click("#score-button")
    page.wait_for_selector("#score-stats:has-text('bits per character')", timeout=TIMEOUT)
    assert page.locator("#score-marks .token").count() > 5
    page.wait_for_selector("#score-plot .js-plotly-plot .bars path", timeout=TIMEOUT)
    screenshot(page, "text-score")
    assert not page.console_errors, page.console_errors


def test_about_tab_shows_the_comparison_table(page):
    page.get_by_role("tab", name="About").click()
    table = page.locator("#about-comparison table")
    table.wait_for(timeout=TIMEOUT)
    text = table.inner_text()
    for row in ("Generation", "Training", "Quality", "Speed", "Diversity"):
        assert row in text
    page.wait_for_function("document.querySelectorAll('.katex').length > 5", timeout=TIMEOUT)  # equations as math
    assert page.get_by_text("Three ways to learn a distribution").is_visible()
    screenshot(page, "about")


def test_presenter_mode_enlarges_text_images_and_charts(page):
    button = page.locator("#next-token-button")
    before = button.bounding_box()["height"]
    page.locator("#presenter-mode input[type=checkbox]").check()
    page.wait_for_function("document.body.classList.contains('gm-presenter')", timeout=TIMEOUT)
    assert button.bounding_box()["height"] > 1.25 * before
    screenshot(page, "presenter-mode")
    page.locator("#presenter-mode input[type=checkbox]").uncheck()
    page.wait_for_function("!document.body.classList.contains('gm-presenter')", timeout=TIMEOUT)
    assert abs(button.bounding_box()["height"] - before) < 1


def test_a_lesson_sets_the_controls_and_explains_what_to_notice(page):
    page.locator("#text-lessons input").click()
    page.get_by_role("option", name="Temperature 0 is greedy").click()
    page.wait_for_selector("#text-lessons-notice:has-text('argmax')", timeout=TIMEOUT)
    page.wait_for_function("document.querySelector('#text-temperature input[type=number]').value === '0'",
                           timeout=TIMEOUT)
    screenshot(page, "text-lesson")
    assert not page.console_errors, page.console_errors
