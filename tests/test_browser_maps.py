"""The views inside the models in a real Chromium (Playwright): the diffusion map, the noise prediction in the
forward process, and the live 2-D GAN's manifold."""
import pytest

from tests.test_browser import TIMEOUT, open_tab, screenshot, set_number

pytestmark = pytest.mark.browser


def test_the_diffusion_map_draws_paths_ending_at_images_and_marks_any_step(page):
    open_tab(page, "Diffusion (images)", "#diffuse-button")
    page.get_by_role("tab", name="Paths on a map").click()  # opening the sub-tab draws the first map
    page.wait_for_selector("#map-stats:has-text('25 steps')", timeout=TIMEOUT)
    page.wait_for_selector("#map-plot .js-plotly-plot", timeout=TIMEOUT)
    assert page.locator("#map-plot image").count() == 8  # a final image at the end of each path
    assert page.locator("#map-gallery img").count() == 8
    set_number(page, "map-step", 25)
    page.wait_for_selector("#map-gallery:has-text('→')", timeout=TIMEOUT)  # the last step: the judged images
    screenshot(page, "diffusion-map")

    set_number(page, "map-steps", 6)
    page.get_by_label("DDIM vs DDPM").check()
    page.click("#map-button")
    page.wait_for_selector("#map-stats:has-text('6 steps')", timeout=TIMEOUT)
    assert "DDIM vs DDPM" in page.locator("#map-plot .gtitle").text_content()

    page.get_by_role("tab", name="Forward process").click()
    page.wait_for_selector("#forward-text:has-text('correlates')", timeout=TIMEOUT)
    page.wait_for_selector("#noise-scatter .js-plotly-plot", timeout=TIMEOUT)
    page.wait_for_selector("#noise-curve .js-plotly-plot", timeout=TIMEOUT)
    screenshot(page, "diffusion-noise-prediction")
    assert not page.console_errors, page.console_errors


def test_a_link_to_the_map_opens_it_drawn_without_a_click(page, app_url):
    page.goto(f"{app_url}/?tab=diffusion&diffusion.view=map", wait_until="load")
    page.wait_for_selector("#map-gallery img", state="visible", timeout=TIMEOUT)
    assert page.get_by_role("tab", name="Paths on a map").get_attribute("aria-selected") == "true"
    assert page.locator("#map-plot image").count() == 8
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: every caption under its image, not over it
    page.locator("#map-gallery").scroll_into_view_if_needed()
    overlaps = page.evaluate("""() => [...document.querySelectorAll('#map-gallery .thumbnail-item')].map(item => {
      const image = item.querySelector('img').getBoundingClientRect();
      const caption = item.querySelector('.caption-label').getBoundingClientRect();
      return [caption.top >= image.bottom - 1, image.right <= innerWidth]; })""")
    assert overlaps and all(below and inside for below, inside in overlaps), overlaps
    screenshot(page, "diffusion-map-link-phone")
    assert not page.console_errors, page.console_errors


def test_the_generator_manifold_is_there_on_arrival_and_follows_training(page):
    open_tab(page, "GAN (images)", "#gan-sample-button")
    page.get_by_role("tab", name="Live 2-D GAN", exact=True).click()
    title = "#toy-manifold .gtitle"
    page.wait_for_selector(f"{title}:has-text('Step 0')", timeout=TIMEOUT)
    set_number(page, "toy-steps", 50)
    page.click("#toy-train")
    page.wait_for_selector(f"{title}:has-text('Step 50')", timeout=TIMEOUT)
    assert "grid of its noise" in page.locator(title).text_content()
    screenshot(page, "gan-manifold")
    page.get_by_text("Raw numbers").click()
    page.click("#toy-manifold-button")
    page.wait_for_selector("#toy-manifold-numbers:has-text('points')", timeout=TIMEOUT)
    assert not page.console_errors, page.console_errors
