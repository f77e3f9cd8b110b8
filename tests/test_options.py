"""List-valued options: the same tuple from the command line and from Python."""

import pytest

from casestudies.errors import ConfigError
from casestudies.options import comma_list, comma_numbers


def test_comma_list_from_text_or_sequence():
    assert comma_list(" a, b,,c ") == ("a", "b", "c")
    assert comma_list(["a", " b "]) == ("a", "b")
    assert comma_list(None) == ()


def test_comma_numbers():
    assert comma_numbers("5,30, 100", "--perplexities") == (5.0, 30.0, 100.0)
    assert comma_numbers((5, 30), "--perplexities") == (5.0, 30.0)
    with pytest.raises(ConfigError, match="--budgets must be comma-separated numbers"):
        comma_numbers("0.5,x", "--budgets")
    with pytest.raises(ConfigError, match="--budgets needs at least one number"):
        comma_numbers(" , ", "--budgets")
