"""Attribution's pure rules: each model's shares for 1, 2, 3 and 5 touches, money shared
in cents that add up to the deal exactly, the look-back window, a touch's source from its
link, and the group a touch is credited under (every expectation by hand)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction as F

import pytest

from nurture.analytics.attribution_rules import (
    MODELS,
    NO_TOUCH,
    Touch,
    credits,
    group_of,
    in_window,
    share,
    url_source,
    weights,
)


@pytest.mark.parametrize(
    ("model", "count", "expected"),
    [
        ("first", 1, [F(1)]),
        ("first", 2, [F(1), F(0)]),
        ("first", 3, [F(1), F(0), F(0)]),
        ("first", 5, [F(1), F(0), F(0), F(0), F(0)]),
        ("last", 1, [F(1)]),
        ("last", 2, [F(0), F(1)]),
        ("last", 3, [F(0), F(0), F(1)]),
        ("last", 5, [F(0), F(0), F(0), F(0), F(1)]),
        ("linear", 1, [F(1)]),
        ("linear", 2, [F(1, 2), F(1, 2)]),
        ("linear", 3, [F(1, 3), F(1, 3), F(1, 3)]),
        ("linear", 5, [F(1, 5)] * 5),
        # One touch takes it all; two share half and half.
        ("u-shaped", 1, [F(1)]),
        ("u-shaped", 2, [F(1, 2), F(1, 2)]),
        # 40 % to each end, the middle one alone gets the other 20 %.
        ("u-shaped", 3, [F(2, 5), F(1, 5), F(2, 5)]),
        # Three in the middle share 20 %: 1/15 each.
        ("u-shaped", 5, [F(2, 5), F(1, 15), F(1, 15), F(1, 15), F(2, 5)]),
    ],
)
def test_each_model_shares_a_deal_among_its_touches(model, count, expected):
    assert weights(model, count) == expected
    assert sum(weights(model, count)) == 1


@pytest.mark.parametrize(
    ("model", "count", "amount", "expected"),
    [
        # 100.00 / 3 = 33.333…: 33.33 each and the cent left over to the first (a tie).
        ("linear", 3, "100.00", ["33.34", "33.33", "33.33"]),
        # 10.00 in 40/20/40: exact.
        ("u-shaped", 3, "10.00", ["4.00", "2.00", "4.00"]),
        # 0.01 can go to one touch only: the first of the tie.
        ("linear", 2, "0.01", ["0.01", "0.00"]),
        ("u-shaped", 2, "0.01", ["0.01", "0.00"]),
        # 1000.00 over 5, U-shaped: 400 + 3 × 66.666… + 400. The middle shares are
        # 66.66 each (199.98) with 0.02 left: the first two middle touches (equal
        # remainders, earlier first) get a cent each.
        ("u-shaped", 5, "1000.00", ["400.00", "66.67", "66.67", "66.66", "400.00"]),
        # 99.99 over 5, linear: 19.998 each, 19.99 × 5 = 99.95, four cents left to the
        # first four.
        ("linear", 5, "99.99", ["20.00", "20.00", "20.00", "20.00", "19.99"]),
        ("first", 5, "99.99", ["99.99", "0.00", "0.00", "0.00", "0.00"]),
        ("last", 2, "99.99", ["0.00", "99.99"]),
        ("last", 1, "0.00", ["0.00"]),
    ],
)
def test_money_is_shared_in_cents_that_add_up_to_the_deal(model, count, amount, expected):
    shares = credits(model, Decimal(amount), count)
    assert shares == [Decimal(value) for value in expected]
    assert sum(shares) == Decimal(amount)


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 7, 11])
@pytest.mark.parametrize("amount", ["0.01", "0.07", "1.00", "123.45", "999999999.99"])
@pytest.mark.parametrize("model", MODELS)
def test_credits_always_add_up_exactly(model, amount, count):
    shares = credits(model, Decimal(amount), count)
    assert len(shares) == count
    assert sum(shares) == Decimal(amount)
    assert all(value >= 0 and value == value.quantize(Decimal("0.01")) for value in shares)


def test_share_gives_the_leftover_cents_to_the_largest_rounding_losses():
    # 1.00 in 1/6, 1/2, 1/3: 16.67, 50, 33.33 cents → 16, 50, 33 = 99; the 0.67 loss is
    # the largest, so the first gets the cent.
    assert share(Decimal("1.00"), [F(1, 6), F(1, 2), F(1, 3)]) == [
        Decimal("0.17"),
        Decimal("0.50"),
        Decimal("0.33"),
    ]


def test_an_unknown_model_or_no_touch_is_an_error():
    with pytest.raises(ValueError, match="unknown attribution model 'w-shaped'"):
        weights("w-shaped", 3)
    with pytest.raises(ValueError, match="at least one touch"):
        weights("linear", 0)


def test_a_touch_counts_strictly_before_the_win_and_within_the_look_back():
    won = datetime(2026, 6, 1, 12, tzinfo=UTC)
    assert in_window(won - timedelta(days=365), won, 365)  # exactly 365 days: in
    assert not in_window(won - timedelta(days=365, seconds=1), won, 365)
    assert in_window(won - timedelta(seconds=1), won, 365)
    assert not in_window(won, won, 365)  # the win itself is not a touch before it
    assert not in_window(won + timedelta(days=1), won, 365)
    assert not in_window(won - timedelta(days=31), won, 30)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.example/p?utm_source=newsletter&utm_medium=email", "newsletter"),
        ("https://x.example/p?utm_source=", None),
        ("https://x.example/p", None),
        ("not a url", None),
        (None, None),
        ("http://[bad", None),
    ],
)
def test_a_touch_source_comes_from_its_link(url, expected):
    assert url_source(url) == expected


def test_a_touch_is_credited_under_its_campaign_source_or_channel():
    click = Touch(datetime(2026, 1, 1, tzinfo=UTC), "email", "drip", "t/s1", "newsletter")
    assert group_of(click, "campaign") == "drip"
    assert group_of(click, "source") == "newsletter"
    assert group_of(click, "channel") == "email"
    assert group_of(click, None) is None
    page = Touch(datetime(2026, 1, 1, tzinfo=UTC), "page", source="ads")
    assert group_of(page, "campaign") is None  # a page view is in no campaign
    assert group_of(None, "campaign") == NO_TOUCH
    assert group_of(None, "channel") == NO_TOUCH
    assert group_of(None, None) is None
