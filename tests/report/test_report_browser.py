"""Reports in a real browser, at 1000 px and on a 390 px phone: no console errors, no network, no
page wider than the screen, math laid out with the embedded font, figures visible with text no
smaller than 9 px.

Runs when Debian's ``chromium`` is installed (``.ci/run`` installs it); skipped otherwise.
"""

import shutil

import pytest

from casestudies.report.figures import MIN_TEXT_PX

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
WIDTHS = pytest.mark.parametrize("width", [1000, 390], ids=["desktop", "phone"])
STUDIES = ["calibration", "clustering", "forecasting", "iid_checks"]

# What a reader sees, measured in the page. Figure text is drawn as paths on a 100-unit em, so
# the rendered size of a glyph is 100 times the scale of its screen transform.
MEASURE = """() => {
  const visible = e => e.checkVisibility();
  const box = e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; };
  const para = document.querySelector('main p');
  const body = parseFloat(getComputedStyle(para).fontSize);
  const line = parseFloat(getComputedStyle(para).lineHeight);
  const figures = Array.from(document.querySelectorAll('figure.chart')).map(fig => {
    const svgs = Array.from(fig.querySelectorAll('svg')).filter(visible);
    let smallest = Infinity;
    for (const svg of svgs) {
      for (const glyph of svg.querySelectorAll('g[id*="text_"] use')) {
        const m = glyph.getScreenCTM();
        if (m) smallest = Math.min(smallest, 100 * Math.hypot(m.a, m.b));
      }
    }
    return {id: fig.id, smallest: smallest, boxes: svgs.map(e => {
      const r = e.getBoundingClientRect(); return [r.width, r.height, r.left, r.top]; })};
  });
  const simpleSubscripts = Array.from(document.querySelectorAll('math[display="inline"] msub'))
    .filter(e => { for (let p = e.parentElement; p.localName !== 'math'; p = p.parentElement)
                     if (p.localName !== 'mrow') return false; return true; })
    .map(e => parseFloat(getComputedStyle(e.children[1]).fontSize)
              / parseFloat(getComputedStyle(e.closest('math').parentElement).fontSize));
  const heights = sel => Array.from(document.querySelectorAll(sel)).map(e => box(e)[1]);
  return {
    body: body, line: line,
    math: Array.from(document.querySelectorAll('math')).filter(visible).map(box),
    fractions: heights('math[display="block"] mfrac'),
    sums: Array.from(document.querySelectorAll('math[display="block"] munderover'))
      .filter(e => e.firstElementChild.textContent.trim() === '\\u2211').map(e => box(e)[1]),
    subscripts: simpleSubscripts,
    mathFontLoaded: Array.from(document.fonts).some(
      f => f.family.includes('Report Math') && f.status === 'loaded'),
    figures: figures,
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  };
}"""


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
        page.evaluate("document.fonts.ready.then(() => true)")
        page.screenshot(path=str(screenshot_path), full_page=True)
        seen = page.evaluate(MEASURE)
        context.close()
    seen.update(problems=problems, requests=requests)
    return seen


def check_reader_view(seen, width):
    """What every report must give a reader at ``width`` px."""
    assert seen["problems"] == []
    assert all(url.startswith("file://") for url in seen["requests"]), seen["requests"]
    assert seen["overflow"] <= 0, f"the page scrolls sideways at {width} px"
    assert seen["math"] and all(w > 0 and h > 0 for w, h in seen["math"]), "a formula is empty"
    assert seen["mathFontLoaded"], "the embedded math font did not load"
    for figure in seen["figures"]:
        assert figure["boxes"], f"{figure['id']} shows no figure"
        assert all(w > 100 and h > 50 for w, h, _, _ in figure["boxes"]), figure


def small_figures(seen):
    """Figures whose smallest text renders below MIN_TEXT_PX, with that size."""
    return {f["id"]: round(f["smallest"], 2) for f in seen["figures"]
            if f["smallest"] < MIN_TEXT_PX - 0.01}


@WIDTHS
def test_report_renders_in_chromium(tmp_path, sample_report, provenance, width):
    html_path = sample_report.write(tmp_path / "sample.html", provenance)
    screenshot = tmp_path / "sample.png"
    seen = render_in_browser(html_path, screenshot, tmp_path / "profile", width)

    check_reader_view(seen, width)
    assert len(seen["math"]) >= 5
    assert len(seen["figures"]) == 1 and len(seen["figures"][0]["boxes"]) == 1
    assert small_figures(seen) == {}
    assert screenshot.stat().st_size > 10_000


@WIDTHS
def test_formulas_are_laid_out_at_reading_size(tmp_path, sample_report, provenance, width):
    html_path = sample_report.write(tmp_path / "sample.html", provenance)
    seen = render_in_browser(html_path, tmp_path / "math.png", tmp_path / "profile", width)

    assert seen["fractions"] and all(h > seen["line"] for h in seen["fractions"])
    assert seen["sums"] and all(h > seen["line"] for h in seen["sums"])
    assert seen["subscripts"] and min(seen["subscripts"]) >= 0.70, seen["subscripts"]


def _wide_figure_report():
    from casestudies.report import Report, new_figure

    report = Report("wide", "Wide figures", "q", "a")
    section = report.section("Figures")
    section.markdown("Three panels, and the same as small multiples.")
    fig, axes = new_figure(10, 3.2, 1, 3, sharey=True)
    for i, ax in enumerate(axes):
        ax.plot([0, 1, 2], [0, i, 2 * i], label=f"method {i}")
        ax.set_xlabel("horizon (steps)")
        ax.legend()
    section.figure(fig, caption="Three panels in one wide figure.", alt="three panels")
    panels = []
    for i in range(3):
        panel, ax = new_figure(3.6, 2.6)
        ax.plot([0, 1, 2], [0, i, 2 * i])
        ax.set_xlabel("horizon (steps)")
        panels.append(panel)
    section.figures(panels, caption="Panels (a) to (c).", alts=["a", "b", "c"])
    return report


@WIDTHS
def test_wide_figures_keep_readable_text(tmp_path, provenance, width):
    html_path = _wide_figure_report().write(tmp_path / "wide.html", provenance)
    seen = render_in_browser(html_path, tmp_path / "wide.png", tmp_path / "profile", width)

    assert seen["problems"] == [] and seen["overflow"] <= 0
    assert small_figures(seen) == {}
    wide, panels = seen["figures"]
    assert len(wide["boxes"]) == 1 and len(panels["boxes"]) == 3
    tops = {round(top) for _, _, _, top in panels["boxes"]}
    assert len(tops) == (1 if width == 1000 else 3)  # a row on the desktop, a column on a phone


@pytest.mark.slow
@pytest.mark.parametrize("study", STUDIES)
@WIDTHS
def test_every_study_report_reads_well(tmp_path, quick_reports, study, width):
    if study == "forecasting":
        pytest.importorskip("torch")
    html_path = quick_reports(study)
    seen = render_in_browser(html_path, tmp_path / f"{study}-{width}.png",
                             tmp_path / "profile", width)
    check_reader_view(seen, width)
    assert seen["figures"], "the report has no figure"
    if width == 390:
        assert small_figures(seen) == {}, "figure text below 9 px on a phone"
