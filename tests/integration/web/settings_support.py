"""Helpers for the settings pages' tests."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from sqlalchemy import select

from nurture.models import AuditLog, User
from tests.integration.web.ui_support import PASSWORD, csrf_token, make_user

LINK = re.compile(r'value="(http://nurture\.test/password/set/[^"]+)"')
KEY = re.compile(r'value="(nrt_[a-z0-9]{8}_[A-Za-z0-9_\-]+)"')


def post(
    client: Any,
    path: str,
    data: dict[str, Any] | None = None,
    *,
    page: str = "/settings",
    **kwargs: Any,
) -> Any:
    """POST ``data`` with a valid CSRF token read off ``page``."""
    return client.post(
        path, data={"csrf_token": csrf_token(client, page), **(data or {})}, **kwargs
    )


def user_id(app: Flask, email: str) -> int:
    with app.extensions["nurture"].sessions() as session:
        found = session.scalar(select(User.id).where(User.email == email))
    assert found is not None
    return found


def audit_actions(app: Flask, prefix: str = "") -> list[tuple[str, str, dict[str, Any]]]:
    """(action, actor, detail) of the audit rows whose action starts with ``prefix``."""
    with app.extensions["nurture"].sessions() as session:
        rows = session.scalars(select(AuditLog).order_by(AuditLog.id)).all()
        return [(r.action, r.actor, dict(r.detail)) for r in rows if r.action.startswith(prefix)]


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def signed_in_as(app: Flask, role: str) -> Any:
    """A signed-in client of a new account with ``role``, landing on its own account page
    (so the test does not depend on which area pages are installed)."""
    client = app.test_client()
    email = make_user(app, role)
    token = csrf_token(client, "/login")
    response = client.post(
        "/login?next=/account", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client
