"""Layout on the two hardest stages, a projector in presenter mode and a phone: nothing covers a chart's title and no
page scrolls sideways, on every top tab and sub-tab as it opens."""
import pytest

from tests.test_browser import TIMEOUT, screenshot
from tests.test_browser_classroom import OVERFLOW_JS, sized_page  # noqa: F401 (sized_page is a fixture)

pytestmark = pytest.mark.browser
SETTLE_POLLS = 120  # x 0.5 s: an arrival view still computing on 2 cores gets a minute
# A visible, laid-out element: computed style up the tree (a hidden tab's panel is display: none; Gradio's idle
# status overlay is transparent), except plotly's toolbar, transparent until the pointer is over the chart.
VISIBLE_JS = """(e) => { const r = e.getBoundingClientRect(); if (r.width < 1 || r.height < 1) return false;
  const toolbar = e.closest('.modebar');
  for (let n = e; n && n.nodeType === 1; n = n.parentElement) {
    const s = getComputedStyle(n);
    if (s.display === 'none' || s.visibility === 'hidden' || (s.opacity === '0' && !toolbar)) return false; }
  return true; }"""
# Whether the open tab is done: no visible status tracker busy, and the number of drawn charts.
STATE_JS = f"""() => {{ const visible = {VISIBLE_JS};
  const busy = [...document.querySelectorAll('[data-testid=status-tracker]:not(.hide)')].filter(visible).length;
  const charts = [...document.querySelectorAll('.js-plotly-plot .gtitle')].filter(visible).length;
  return [busy, charts]; }}"""
# Every visible chart title past its chart's edge (cut off), or against every other visible thing it meets: outside
# its chart any element with no element children (text, icons, inputs, other charts' marks), inside it the parts that
# may drift onto it.
OVERLAPS_JS = f"""() => {{ const visible = {VISIBLE_JS};
  const meets = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5
                          && b.top < a.bottom - 0.5;
  const name = (e) => {{ const owner = e.closest('[id]');
    return `${{e.tagName.toLowerCase()}}.${{e.getAttribute('class') || ''}} in #${{owner ? owner.id : '?'}} ` +
           `"${{(e.textContent || '').trim().slice(0, 40)}}"`; }};
  // Gradio's status overlay fades out over a chart when its answer arrives: not part of the layout
  const leaves = [...document.querySelectorAll('body *')].filter(e => !e.children.length && visible(e)
                                                               && !e.closest('[data-testid=status-tracker]'));
  const found = [];
  for (const title of [...document.querySelectorAll('.js-plotly-plot .gtitle')].filter(visible)) {{
    const chart = title.closest('.js-plotly-plot'), box = title.getBoundingClientRect();
    const paper = chart.querySelector('.main-svg').getBoundingClientRect();
    if (box.left < paper.left - 1 || box.right > paper.right + 1) found.push(`"${{title.textContent}}" is cut off`);
    const own = [...chart.querySelectorAll('.legend, .modebar, .colorbar, .annotation, .g-xtitle, .g-ytitle, ' +
                                           '.xtick, .ytick')].filter(visible);
    for (const other of [...leaves.filter(e => !chart.contains(e)), ...own])
      if (meets(box, other.getBoundingClientRect())) found.push(`"${{title.textContent}}" under ${{name(other)}}`);
  }}
  return found; }}"""


def settle(page) -> None:
    """Wait until the open tab's arrival views have arrived and its charts are drawn (their count holds still)."""
    last = None
    for _ in range(SETTLE_POLLS):
        busy, charts = page.evaluate(STATE_JS)
        if not busy and charts == last:
            return
        last = charts
        page.wait_for_timeout(500)
    pytest.fail(f"the tab kept computing: {busy} busy, {charts} charts")


def tab_names(page, level: int) -> list[str]:
    """The tab buttons of the visible tab row at `level` (0: the top tabs, 1: the open tab's sub-tabs)."""
    rows = page.locator("[role=tablist]:visible")
    return rows.nth(level).locator("[role=tab]").all_inner_texts() if rows.count() > level else []


def problems(page, where: str) -> list[str]:
    """What covers a chart title, and any sideways scroll, on the open (sub-)tab."""
    settle(page)
    found = [f"{where}: {overlap}" for overlap in page.evaluate(OVERLAPS_JS)]
    overflow = page.evaluate(OVERFLOW_JS)
    return found + ([f"{where}: the page scrolls {overflow} px sideways"] if overflow > 1 else [])


@pytest.mark.parametrize("sized_page", ["projector", "phone"], indirect=True)
def test_nothing_covers_a_chart_title_and_nothing_scrolls_sideways(sized_page):
    page = sized_page
    page.wait_for_selector(".js-plotly-plot .gtitle", timeout=TIMEOUT)  # the first tab's chart, on arrival
    if page.viewport_name == "projector":
        page.click("#presenter-mode input")
        page.wait_for_function("document.body.classList.contains('gm-presenter')", timeout=TIMEOUT)
    found, charts = [], 0
    for top in tab_names(page, 0):
        page.locator("[role=tablist]:visible").first.get_by_role("tab", name=top, exact=True).click()
        for sub in tab_names(page, 1) or [None]:
            if sub is not None:
                page.locator("[role=tablist]:visible").nth(1).get_by_role("tab", name=sub, exact=True).click()
            found += problems(page, " > ".join(filter(None, [top, sub])))
            charts += page.evaluate(STATE_JS)[1]
    screenshot(page, f"layout-{page.viewport_name}")
    assert charts >= 10  # the walk saw the charts it checks
    assert not found, "\n".join(found)
