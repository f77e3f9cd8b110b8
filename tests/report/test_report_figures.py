"""Figures: text from data drawn as typed; the sizes and layouts that keep figure text readable."""

import pytest

from casestudies.report import figure_text, figure_to_svg, new_figure


@pytest.mark.parametrize("value", ["$", "$$", "$$$", "price $$", r"$\foo$", "a\\b", "{{ x }}"])
def test_user_text_with_dollars_draws_without_error(value):
    fig, ax = new_figure()
    ax.plot([0, 1], [0, 1], label=figure_text(value))
    ax.set_xlabel(figure_text(value))
    ax.legend()
    assert figure_to_svg(fig).startswith("<svg")


def test_unescaped_dollars_are_what_breaks_the_figure():
    # The control: the same value without figure_text is read as math and fails to draw.
    fig, ax = new_figure()
    ax.set_xlabel(r"$\foo$")
    with pytest.raises(ValueError):
        figure_to_svg(fig)


def test_svg_text_sizes_are_the_font_sizes_in_points():
    from casestudies.report.figures import svg_size_pt, svg_text_sizes

    fig, ax = new_figure(6, 3)
    ax.plot([0, 1], [0, 1], label="$x^2$")
    ax.set_xlabel("time (s)", fontsize=12)
    ax.legend(fontsize=9)
    svg = figure_to_svg(fig)
    sizes = svg_text_sizes(svg)
    assert max(sizes) == pytest.approx(12)
    assert min(sizes) == pytest.approx(9 * 0.7)  # the superscript of the legend's x^2
    assert svg_size_pt(svg) == pytest.approx((432, 216))


def test_readable_width_keeps_the_smallest_text_at_nine_pixels():
    from casestudies.report.figures import readable_width_px

    fig, ax = new_figure(6, 3)
    ax.plot([0, 1], [0, 1])
    ax.tick_params(labelsize=8)
    # 432 pt shown 486 px wide draws 8 pt text at 8 * 486 / 432 = 9 px.
    assert readable_width_px(figure_to_svg(fig)) == pytest.approx(486)


def test_narrow_layout_stacks_a_row_of_panels():
    from casestudies.report.figures import PHONE_WIDTH_IN, narrow_layout

    fig, axes = new_figure(9, 3, 1, 3, sharey=True)
    cbar_source = axes[2].imshow([[0, 1], [1, 0]])
    fig.colorbar(cbar_source, ax=axes[2])
    assert narrow_layout(fig)
    width, height = fig.get_size_inches()
    assert width == pytest.approx(PHONE_WIDTH_IN) and height > 3 * 2
    rows = [ax.get_subplotspec().rowspan.start for ax in axes]
    assert rows == [0, 1, 2]
    assert all(ax.yaxis.get_tick_params()["labelleft"] for ax in axes)
    figure_to_svg(fig)  # still draws


def test_narrow_layout_of_a_single_panel_only_narrows_it():
    from casestudies.report.figures import narrow_layout

    fig, _ = new_figure(7, 4)
    assert not narrow_layout(fig)
    assert fig.get_size_inches()[0] < 4


def test_figure_gets_a_narrow_variant_only_when_its_text_would_be_too_small():
    from casestudies.report import Report

    report = Report("x", "t", "q", "a")
    section = report.section("S")
    small, ax = new_figure(3.5, 2.5)
    ax.plot([0, 1], [0, 1])
    section.figure(small, "small", "a small figure")
    wide, ax = new_figure(7, 4)
    ax.plot([0, 1], [0, 1])
    section.figure(wide, "wide", "a wide figure")
    first, second = section.blocks
    assert first.count("<svg") == 1 and 'class="figure-frame"' in first
    assert second.count("<svg") == 2 and "figure-frame narrow" in second
    (rule,) = report._css
    assert rule.startswith("@media screen and (max-width:") and "#figure-2" in rule
    assert 'style="max-width: 672px; min-width:' in second  # 7 in at 96 px per inch


def test_small_multiples_check_their_arguments():
    from casestudies.report import Report

    section = Report("x", "t", "q", "a").section("S")
    panel, _ = new_figure(3, 2)
    with pytest.raises(ValueError, match="one alt text and label per panel"):
        section.figures([panel], caption="c", alts=[])
    section.figures([panel], caption="c", alts=["a"])
    assert '<p class="panel-label">(a)</p>' in section.blocks[0]
    assert "--panel-min:" in section.blocks[0]


def test_narrow_layout_puts_a_wide_figure_legend_in_fewer_columns():
    from casestudies.report.figures import PHONE_WIDTH_IN, narrow_layout

    fig, ax = new_figure(7.5, 4.4)
    for i in range(6):
        ax.plot([0, 1], [i, i + 1], label=f"a method with a long name ({i})")
    fig.legend(loc="outside lower center", ncols=3, fontsize=8, title="methods")
    figure_to_svg(fig)
    narrow_layout(fig)
    (legend,) = fig.legends
    assert legend._ncols < 3 and legend.get_title().get_text() == "methods"
    assert legend.texts[0].get_text() == "a method with a long name (0)"
    fig.draw_without_rendering()
    assert legend.get_window_extent().width <= PHONE_WIDTH_IN * fig.dpi
    assert fig.bbox.contains(*legend.get_window_extent().p0)  # not cut off below the figure


def test_narrow_layout_enlarges_text_too_small_for_a_phone():
    from casestudies.report.figures import NARROW_MIN_TEXT_PT, narrow_layout, svg_text_sizes

    fig, ax = new_figure(7.5, 4)
    ax.plot([0, 1], [0, 1], label=r"$\hat\sigma_j^2$")
    ax.tick_params(labelsize=6)
    ax.set_title("small", fontsize=5)
    ax.legend(fontsize=7)
    assert min(svg_text_sizes(figure_to_svg(fig))) < 5
    narrow_layout(fig)
    assert min(svg_text_sizes(figure_to_svg(fig))) >= NARROW_MIN_TEXT_PT - 1e-6


def test_narrow_layout_drops_empty_cells_of_the_grid():
    from casestudies.report.figures import narrow_layout

    fig, axes = new_figure(9, 6, 2, 3)
    for ax in axes.flat[:5]:
        ax.plot([0, 1], [0, 1])
    axes.flat[5].set_axis_off()
    narrow_layout(fig)
    assert len(fig.axes) == 5
    assert sorted(ax.get_subplotspec().rowspan.start for ax in fig.axes) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("months", [30, 35, 50, 59, 61, 200])
def test_narrow_layout_thins_date_ticks_without_a_locator_warning(months):
    """Five ticks at most on a phone: spans just short of the next coarser unit (months before
    years) need a step of a whole coarser unit, which matplotlib's default steps lack."""
    import warnings

    import numpy as np
    import pandas as pd

    from casestudies.report.figures import narrow_layout

    fig, ax = new_figure(7, 4)
    days = pd.date_range("2000-01-01", periods=months, freq="MS")
    ax.plot(days, np.arange(months))
    narrow_layout(fig)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        svg = figure_to_svg(fig)
    low, high = ax.get_xlim()
    inside = [x for x in ax.get_xticks() if low <= x <= high]
    assert 2 <= len(inside) <= 6 and "<svg" in svg  # maxticks 5: at most five steps
