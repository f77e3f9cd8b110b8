"""A generated report in a real browser: no console errors, no network, math and figures visible.

Runs when Debian's ``chromium`` is installed (``.ci/run`` installs it); skipped otherwise.
"""

import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]


def render_in_browser(html_path, screenshot_path, user_data_dir, width=1000):
    """Open ``html_path`` in headless Chromium; return what the page showed and asked for."""
    sync_api = pytest.importorskip("playwright.sync_api")
    problems, requests = [], []
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(user_data_dir), executable_path=CHROMIUM, args=FLAGS, headless=True,
            viewport={"width": width, "height": 900})
        page = context.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(html_path.as_uri(), wait_until="load")
        page.screenshot(path=str(screenshot_path), full_page=True)
        math_boxes = page.evaluate(
            "() => Array.from(document.querySelectorAll('math')).map(m => {"
            " const r = m.getBoundingClientRect(); return [r.width, r.height]; })")
        figures = page.evaluate(
            "() => Array.from(document.querySelectorAll('figure svg')).map(s => {"
            " s.scrollIntoView(); const r = s.getBoundingClientRect();"
            " return [r.width, r.height, s.checkVisibility()]; })")
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        context.close()
    return {"problems": problems, "requests": requests, "math": math_boxes, "figures": figures,
            "overflow": overflow}


@pytest.mark.parametrize("width", [1000, 390], ids=["desktop", "phone"])
def test_report_renders_in_chromium(tmp_path, sample_report, provenance, width):
    html_path = sample_report.write(tmp_path / "sample.html", provenance)
    screenshot = tmp_path / "sample.png"
    seen = render_in_browser(html_path, screenshot, tmp_path / "profile", width)

    assert seen["problems"] == []
    assert all(url.startswith("file://") for url in seen["requests"]), seen["requests"]
    assert len(seen["math"]) >= 5
    assert all(w > 0 and h > 0 for w, h in seen["math"]), seen["math"]
    assert len(seen["figures"]) == 1
    assert all(w > 100 and h > 50 and visible for w, h, visible in seen["figures"])
    assert seen["overflow"] <= 0, "the page scrolls sideways"
    assert screenshot.stat().st_size > 10_000


@pytest.mark.slow
def test_a_study_report_renders_in_chromium(tmp_path):
    from casestudies.cli import main

    assert main(["calibration", "--quick", "--quiet", "--out", str(tmp_path)]) == 0
    for width in (1000, 390):
        seen = render_in_browser(tmp_path / "calibration.html", tmp_path / f"shot{width}.png",
                                 tmp_path / f"profile{width}", width)
        assert seen["problems"] == []
        assert all(url.startswith("file://") for url in seen["requests"]), seen["requests"]
        assert seen["math"] and all(w > 0 and h > 0 for w, h in seen["math"])
        assert seen["figures"] and all(w > 100 and h > 50 and v for w, h, v in seen["figures"])
        assert seen["overflow"] <= 0, f"the page scrolls sideways at {width} px"
