"""Screenshots of every tab with real results, for the README: `python docs/screenshots.py [--data DIR]`.

Starts the app on the embedded tier, drives it in headless Debian Chromium (playwright),
and writes docs/screenshots/<tab>.png. Point --data at a leaderboard data dir with
finished submissions (`python -m leaderboard seed-baselines` then `worker`) to show rows.
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
    args = ap.parse_args()
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

        upload([p for p in brick if p.parent.name == "stain"][0])
        page.get_by_role("button", name="Detect", exact=True).click()
        wait_text("() => [...document.querySelectorAll('textarea')].some(t => t.value.includes('threshold'))")
        page.screenshot(path=str(OUT / "detect.png"), full_page=True)

        tab("Synthesize")
        upload(brick[0])
        page.get_by_role("button", name="Synthesize", exact=True).click()
        wait_text("() => document.body.innerText.includes('BEST')")
        page.screenshot(path=str(OUT / "synthesize.png"), full_page=True)

        tab("Caption → logical score")
        upload(fruits[2])
        page.get_by_role("button", name="Caption and score").click()
        wait_text("() => [...document.querySelectorAll('textarea')].some(t => t.value.includes('object'))")
        page.screenshot(path=str(OUT / "caption.png"), full_page=True)

        tab("Match-of-thought rules")
        page.get_by_role("button", name="Load the mined rules").click()
        wait_text("() => document.body.innerText.includes('valid:')")
        upload(fruits[2])
        page.get_by_role("button", name="Apply the rules").click()
        wait_text("() => document.body.innerText.includes('rules broken')")
        page.screenshot(path=str(OUT / "rules.png"), full_page=True)

        tab("Leaderboard")
        page.get_by_role("button", name="Refresh").click()
        page.wait_for_timeout(3000)
        page.screenshot(path=str(OUT / "leaderboard.png"), full_page=True)

        tab("About")
        page.wait_for_timeout(1500)
        page.screenshot(path=str(OUT / "about.png"), full_page=True)
        browser.close()
    demo.close()
    for p in sorted(OUT.glob("*.png")):
        print(p)


if __name__ == "__main__":
    main()
