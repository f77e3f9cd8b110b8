"""Each verdict rule of the clustering study on constructed numbers on both sides of its
threshold, and the wording of the short answer chosen from the verdicts."""

import math

import pytest

from casestudies.clustering import verdicts as rules
from casestudies.stats import Estimate
from casestudies.verdicts import point_above


def test_paired_difference_needs_the_whole_interval_above_zero():
    above = rules.paired_difference("d", Estimate(0.1, 0.02, 0.2), rule="r", unit="customers")
    below = rules.paired_difference("d", Estimate(-0.1, -0.2, -0.01), rule="r",
                                    unit="customers")
    straddles = rules.paired_difference("d", Estimate(0.01, -0.02, 0.04), rule="r",
                                        unit="customers")
    assert (above.state, below.state, straddles.state) == ("yes", "no", "undecided")
    assert above.unit == "customers" and above.threshold == rules.NO_DIFFERENCE
    assert (above.low, above.high, above.confidence) == (0.02, 0.2, 0.95)


def test_difference_over_seeds_holds_only_when_every_seed_agrees():
    every = rules.difference_over_seeds("g", 0.13, [0.15, 0.11], rule="r")
    assert every.holds is True and every.unit == "seeds"
    assert (every.low, every.high, every.estimate) == (0.11, 0.15, 0.13)
    assert every.confidence is None  # a range over seeds, not a confidence interval
    none = rules.difference_over_seeds("g", -0.05, [-0.01, 0.0], rule="r")
    assert none.holds is False
    split = rules.difference_over_seeds("g", 0.02, [-0.01], rule="r")
    assert split.holds is None
    assert rules.difference_over_seeds("g", math.nan, [0.1], rule="r").holds is None


def test_point_difference_and_point_below():
    assert rules.point_difference("p", 0.9, 0.5, rule="r").holds is True
    assert rules.point_difference("p", 0.5, 0.9, rule="r").holds is False
    assert rules.point_difference("p", 0.5, 0.5, rule="r").holds is False  # a tie is no gain
    assert rules.point_below("b", 0.49, 0.5, rule="r").holds is True
    assert rules.point_below("b", 0.51, 0.5, rule="r").holds is False


def test_both_lower_needs_every_score_on_the_same_side():
    assert rules.both_lower("c", [0.4, 0.3], [0.5, 0.6], rule="r").state == "yes"
    assert rules.both_lower("c", [0.6, 0.7], [0.5, 0.6], rule="r").state == "no"
    mixed = rules.both_lower("c", [0.4, 0.7], [0.5, 0.6], rule="r")
    assert mixed.state == "undecided" and mixed.estimate == pytest.approx(0.1)


def test_monotone_rise_describes_the_whole_sweep_not_its_ends():
    assert rules.monotone_rise("s", [0.4, 0.5, 0.6], rule="r").state == "yes"
    assert rules.monotone_rise("s", [0.6, 0.5, 0.4], rule="r").state == "no"
    # Higher at the end than at the start, but not monotone: undecided, not "rises".
    bumpy = rules.monotone_rise("s", [0.4, 0.7, 0.5], rule="r")
    assert bumpy.state == "undecided" and bumpy.estimate == pytest.approx(0.1)
    assert rules.monotone_rise("s", [0.4, 0.4], rule="r").state == "undecided"


@pytest.mark.parametrize("ratio, state", [(0.5, "yes"), (0.79, "yes"), (0.81, "undecided"),
                                          (0.99, "undecided"), (1.0, "no"), (1.6, "no")])
def test_reproducibility_ratio_band(ratio, state):
    verdict = rules.ratio_below("r", ratio, rules.CLEARLY_MORE_REPRODUCIBLE, rule="r")
    assert verdict.state == state


@pytest.mark.parametrize("start, end, state", [(1.0, 0.05, "yes"), (1.0, 0.2, "undecided"),
                                               (1.0, 1.0, "no"), (1.0, 2.0, "no"),
                                               (1.0, 0.0, "yes")])
def test_gradient_converged(start, end, state):
    assert rules.gradient_converged("o", start, end).state == state


def test_neighbourhood_agreement_and_variance_share_thresholds():
    for value, holds in ((0.51, True), (0.49, False)):
        assert point_above("n", value, rules.MOST_NEIGHBOURS_AGREE, rule="r").holds is holds
        assert point_above("m", value, rules.MAJORITY_SHARE, rule="r").holds is holds
        assert point_above("d", value, rules.DOMINANT_SQUARED_LOADING, rule="r").holds is holds


def test_spread_and_distance_thresholds():
    # Radius ratio 6 in the data: 2.9 on the map keeps more than half of it (on the ratio
    # scale), 1.1 removes most of it and looks equal.
    assert rules.point_below("s", 2.9 / 6, rules.EQUALISED_SPREAD_FACTOR, rule="r").holds
    assert not rules.point_below("s", 3.1 / 6, rules.EQUALISED_SPREAD_FACTOR, rule="r").holds
    assert rules.point_below("e", 1.1, rules.LOOKS_EQUAL_RATIO, rule="r").holds
    assert not rules.point_below("e", 2.5, rules.LOOKS_EQUAL_RATIO, rule="r").holds
    assert rules.point_below("c", 3.0 / 5, rules.COMPRESSED_DISTANCE_FACTOR, rule="r").holds
    assert not rules.point_below("c", 3.5 / 5, rules.COMPRESSED_DISTANCE_FACTOR,
                                 rule="r").holds


def test_different_picks():
    assert rules.different_picks("t", "t-SNE p=30", "t-SNE p=200", rule="r").holds is True
    assert rules.different_picks("t", "t-SNE p=30", "t-SNE p=30", rule="r").holds is False


def test_equal_flag():
    assert rules.equal_flag("k", 8, 8, rule="r").holds is True
    assert rules.equal_flag("k", 7, 8, rule="r").holds is False
