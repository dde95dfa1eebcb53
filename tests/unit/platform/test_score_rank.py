"""The lead list's score key orders scores as they are now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nurture.platform.decay import decayed, score_rank

HALF_LIFE = timedelta(days=30)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_rank_orders_scores_like_their_decayed_values_at_any_moment():
    scores = [(40.0, T0), (25.0, T0 + timedelta(days=30)), (30.0, T0 + timedelta(days=16)),
              (-5.0, T0), (-2.0, T0 + timedelta(days=60)), (0.0, None), (0.001, T0)]  # fmt: skip
    by_rank = sorted(scores, key=lambda s: score_rank(s[0], s[1], HALF_LIFE))
    for now in (T0 + timedelta(days=60), T0 + timedelta(days=400)):
        by_value = sorted(scores, key=lambda s: decayed(s[0], s[1], now, HALF_LIFE))
        assert by_rank == by_value
