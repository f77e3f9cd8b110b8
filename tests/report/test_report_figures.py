"""Figure text from data is drawn as typed, never parsed as math."""

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
