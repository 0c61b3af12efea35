"""Screenshots of every tab with real results, for the README: `python docs/screenshots.py [--data DIR]`.

Starts the app on the embedded tier, drives it in headless Debian Chromium (playwright),
and writes docs/screenshots/<tab>.png, plus Detect on many images and with a saved rule set.
Point --data at a leaderboard data dir with finished submissions (`python -m leaderboard
seed-baselines` then `worker`) to show rows, charts and a run's detail.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
LONG = 300_000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", help="leaderboard data dir (ANOMALY_HUB_DATA)")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--only", help="comma-separated shots to take (default: all), e.g. detect-classes")
    args = ap.parse_args()
    only = set(args.only.split(",")) if args.only else None

    def want(*shots: str) -> bool:
        return only is None or bool(only.intersection(shots))

    if args.data:
        os.environ["ANOMALY_HUB_DATA"] = args.data
    os.environ["ANOMALY_HUB_WORKER"] = "0"
    from playwright.sync_api import sync_playwright

    import app
    from leaderboard import examples

    demo = app.build_app()
    demo.queue().launch(server_name="127.0.0.1", server_port=None, prevent_thread_lock=True, quiet=True)
    OUT.mkdir(parents=True, exist_ok=True)
    brick = examples.example_images("brick")
    fruits = examples.example_images("Fruits")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1360, "height": 1000})
        page.goto(demo.local_url, wait_until="load")
        page.get_by_text("Anomaly detection hub").first.wait_for(timeout=60_000)

        def tab(name: str) -> None:
            page.get_by_role("tab", name=name).click()
            page.wait_for_timeout(800)

        def upload(path: Path) -> None:
            page.locator("[role=tabpanel]:visible").locator("input[type=file]").first.set_input_files(str(path))
            page.wait_for_timeout(1500)

        def wait_text(js_condition: str) -> None:
            page.wait_for_function(js_condition, timeout=LONG)
            page.wait_for_timeout(1000)

        if want("detect", "detect-batch"):
            detect_shots(page, brick, upload, wait_text)
        if want("detect-classes"):
            classes_shot(page, brick, upload, wait_text)
        if want("synthesize"):
            tab("Synthesize")
            upload(brick[0])
            page.get_by_role("button", name="Synthesize", exact=True).click()
            wait_text("() => document.body.innerText.includes('BEST')")
            page.screenshot(path=str(OUT / "synthesize.png"), full_page=True)
        if want("caption"):
            tab("Caption → logical score")
            upload(fruits[2])
            page.get_by_role("button", name="Caption and score").click()
            wait_text("() => [...document.querySelectorAll('textarea')].some(t => t.value.includes('object'))")
            page.screenshot(path=str(OUT / "caption.png"), full_page=True)
        if want("rules", "detect-rules"):
            rules_shots(page, fruits, tab, upload, wait_text)
        if want("leaderboard"):
            leaderboard_shot(page, app, tab, wait_text)
        if want("about"):
            tab("About")
            page.wait_for_timeout(1500)
            page.screenshot(path=str(OUT / "about.png"), full_page=True)
        browser.close()
    demo.close()
    for p in sorted(OUT.glob("*.png")):
        print(p)


def _pick(page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=False).first
    box.fill(value)
    box.press("Enter")
    page.wait_for_timeout(500)


def detect_shots(page, brick, upload, wait_text) -> None:
    """PatchCore on a brick stain, then the same model on a batch of brick images."""
    import shutil
    import tempfile

    from leaderboard import examples

    upload([p for p in brick if p.parent.name == "stain"][0])
    page.get_by_role("button", name="Detect", exact=True).click()
    wait_text("() => [...document.querySelectorAll('textarea')].some(t => t.value.includes('threshold'))")
    page.locator(".js-plotly-plot").first.wait_for(state="visible", timeout=LONG)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(OUT / "detect.png"), full_page=True)

    page.get_by_text("Many images").click()
    batch = Path(tempfile.mkdtemp(prefix="batch-"))  # the examples share file names: name them by folder
    for p in examples.example_images("brick", limit=12):
        shutil.copy(p, batch / f"{p.parent.name}-{p.name}")
    page.locator("[role=tabpanel]:visible input[type=file][multiple]").first.set_input_files(
        sorted(str(p) for p in batch.iterdir()))
    page.wait_for_timeout(2500)
    page.get_by_role("button", name="Detect all").click()
    wait_text("() => [...document.querySelectorAll('textarea')].some(t => t.value.includes('images ANOMALOUS'))")
    page.screenshot(path=str(OUT / "detect-batch.png"), full_page=True)
    page.get_by_text("Many images").click()


def classes_shot(page, brick, upload, wait_text) -> None:
    """UniADC on brick: the class map with its legend (fitting it on first use takes a few minutes on a CPU)."""
    _pick(page, "Method", "uniadc")
    _pick(page, "Fitted on", "brick")
    upload([p for p in brick if p.parent.name == "stain"][0])
    page.get_by_role("button", name="Detect", exact=True).click()
    wait_text("() => [...document.querySelectorAll('textarea')].some(t => t.value.includes('most likely defect'))")
    page.wait_for_timeout(2000)
    page.screenshot(path=str(OUT / "detect-classes.png"), full_page=True)


def rules_shots(page, fruits, tab, upload, wait_text) -> None:
    """The mined Fruits rules applied and saved, then that saved rule set driving logsad in Detect."""
    tab("Match-of-thought rules")
    page.get_by_role("button", name="Load the mined rules").click()
    wait_text("() => document.body.innerText.includes('valid:')")
    upload(fruits[2])
    page.get_by_role("button", name="Apply the rules").click()
    wait_text("() => document.body.innerText.includes('rules broken')")
    page.get_by_label("Save as").fill("fruits-mined")
    page.get_by_role("button", name="Save", exact=True).click()
    wait_text("() => document.body.innerText.includes(\"saved 'fruits-mined'\")")
    page.screenshot(path=str(OUT / "rules.png"), full_page=True)

    tab("Detect")
    for label, value in (("Method", "logsad"), ("Fitted on", "Fruits"), ("Rule set", "saved: fruits-mined")):
        _pick(page, label, value)
    upload(fruits[2])
    page.get_by_role("button", name="Detect", exact=True).click()
    wait_text("() => [...document.querySelectorAll('textarea')].some(t => t.value.includes('held-out'))")
    page.screenshot(path=str(OUT / "detect-rules.png"), full_page=True)


def leaderboard_shot(page, app, tab, wait_text) -> None:
    tab("Leaderboard")
    page.get_by_role("button", name="Refresh").click()
    page.wait_for_timeout(3000)
    runs = app.leaderboard_table()
    if len(runs):  # the detail of the run with the most tasks, when the data dir has finished runs
        name = runs.sort_values("n_tasks").iloc[-1]["display_name"]
        page.locator("#leaderboard-table").get_by_text(name, exact=True).first.click()
        wait_text("() => document.body.innerText.includes('git_commits')")
    page.screenshot(path=str(OUT / "leaderboard.png"), full_page=True)


if __name__ == "__main__":
    main()
