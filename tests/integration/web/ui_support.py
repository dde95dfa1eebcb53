"""Helpers for the web app's tests: accounts of each role, signing in, CSRF tokens."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from nurture.auth import users
from nurture.platform.db import transaction, utcnow

PASSWORD = "correct horse battery staple"
CSRF_TOKEN = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def make_user(app: Flask, role: str, email: str | None = None, password: str = PASSWORD) -> str:
    """Create an active account with ``role``; returns its address."""
    email = email or f"{role}@example.com"
    with transaction(app.extensions["nurture"].sessions) as session:
        users.create_user(
            session,
            email=email,
            name=role.title(),
            role=role,
            password=password,
            actor="test",
            now=utcnow(),
        )
    return email


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """A valid CSRF token for this client's session, read off a page's form."""
    html = client.get(path).get_data(as_text=True)
    match = CSRF_TOKEN.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    """Sign in through the form; returns the response (302 on success)."""
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def signed_in_client(app: Flask, role: str, email: str | None = None) -> FlaskClient:
    """A test client of a new account with ``role``, signed in."""
    client = app.test_client()
    address = make_user(app, role, email)
    response = sign_in(client, address)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client
