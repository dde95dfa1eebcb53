"""The review queue's pages: only marketing (and admins) open them, every form needs its
CSRF token, a dismissal needs a reason, and a second decision changes nothing."""

from __future__ import annotations

from nurture.models import HandRaise
from nurture.platform.db import utcnow
from tests.integration.qualification.hand_raise_support import hold_for_review
from tests.integration.web.ui_support import csrf_token, signed_in_client


def review_row(app, review_id: int) -> HandRaise:
    with app.extensions["nurture"].sessions() as session:
        row = session.get(HandRaise, review_id)
        assert row is not None
        return row


def test_only_marketing_and_admins_open_the_review_queue(app):
    review = hold_for_review(app.extensions["nurture"], "olek@kwiatki.example", utcnow())
    clients = {
        role: signed_in_client(app, role) for role in ("marketer", "admin", "sales", "viewer")
    }
    for role, status in (("marketer", 200), ("admin", 200), ("sales", 403), ("viewer", 403)):
        assert clients[role].get("/sales/reviews").status_code == status, role
        assert clients[role].get(f"/sales/reviews/{review}").status_code == status, role
    marketer = clients["marketer"]
    page = marketer.get("/sales/reviews").get_data(as_text=True)
    assert "Olek" in page and "outside the ICP" in page
    assert marketer.get("/sales/reviews?status=nonsense").status_code == 400
    assert marketer.get("/sales/reviews/999999").status_code == 404


def test_a_dismissal_needs_a_reason_and_a_token_and_happens_once(app):
    review = hold_for_review(app.extensions["nurture"], "olek@kwiatki.example", utcnow())
    client = signed_in_client(app, "marketer")
    path = f"/sales/reviews/{review}"
    no_token = client.post(f"{path}/dismiss", data={"reason": "too small"})
    assert no_token.status_code == 400 and review_row(app, review).review_status == "open"
    empty = client.post(f"{path}/dismiss", data={"csrf_token": csrf_token(client, path)})
    assert empty.status_code == 422
    assert "Say why the lead stays in nurture." in empty.get_data(as_text=True)
    assert review_row(app, review).review_status == "open"
    done = client.post(
        f"{path}/dismiss", data={"csrf_token": csrf_token(client, path), "reason": "too small"}
    )
    assert done.status_code == 302
    row = review_row(app, review)
    assert row.review_status == "dismissed" and row.resolution_note == "too small"
    assert row.resolved_by is not None and row.resolved_by.startswith("user:")
    again = client.post(f"{path}/send", data={"csrf_token": csrf_token(client, path)})
    assert again.status_code == 409
    assert "resolved this review already" in again.get_data(as_text=True)
    assert review_row(app, review).handoff_id is None
