"""One end-to-end check in headless Chromium: open the page, upload an example, see the heat map and histogram.

Uses Debian's /usr/bin/chromium through the Python playwright package; nothing downloads a
browser. `make install-test` installs chromium where apt-get is available.
"""
import os
import shutil

import pytest

CHROMIUM = os.environ.get("ANOMALY_HUB_CHROMIUM", "/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not shutil.which(CHROMIUM), reason=f"no Chromium at {CHROMIUM}")

# Flags for a closed network: without the background-networking ones Chromium keeps dialling out.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def page_url(tmp_path_factory):
    os.environ["ANOMALY_HUB_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    os.environ["ANOMALY_HUB_DATA"] = str(tmp_path_factory.mktemp("data"))
    import app

    demo = app.build_app()
    demo.queue().launch(server_name="127.0.0.1", server_port=None, prevent_thread_lock=True, quiet=True)
    yield demo.local_url
    demo.close()


def test_upload_an_example_and_see_the_heat_map_and_histogram(page_url, tmp_path):
    from playwright.sync_api import sync_playwright

    from leaderboard import examples

    defect = [p for p in examples.example_images("brick") if p.parent.name != "good"][0]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(page_url, wait_until="load")
        page.get_by_text("Anomaly detection hub").first.wait_for(timeout=60_000)
        page.locator("input[type=file]").first.set_input_files(str(defect))
        page.get_by_role("button", name="Detect", exact=True).click()
        decision = page.get_by_label("Decision")
        decision.wait_for(state="visible")
        page.wait_for_function(
            "() => [...document.querySelectorAll('textarea')].some(t => t.value.includes('threshold'))",
            timeout=240_000,
        )
        heat = page.locator("img[src*='/gradio_api/file=']")
        heat.last.wait_for(state="visible", timeout=60_000)
        assert heat.count() >= 2  # the uploaded image and the heat map
        page.locator(".js-plotly-plot").first.wait_for(state="visible", timeout=60_000)  # the score histogram
        assert page.get_by_text("threshold", exact=False).count() >= 1
        page.get_by_text("patchcore gives no class map").wait_for(timeout=30_000)
        page.screenshot(path=str(tmp_path / "detect.png"), full_page=True)
        browser.close()
    assert (tmp_path / "detect.png").stat().st_size > 10_000
