"""User accounts through the use cases and ``nurture users``, on a real database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from nurture.auth.users import (
    UserError,
    authenticate,
    change_role,
    create_user,
    disable_user,
    enable_user,
    find_user,
)
from nurture.cli import cli
from nurture.models import AuditLog, User
from nurture.platform.db import transaction

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"


def _create(runtime, email="Maria.Lopez@Brightpath.example", role="marketer", password=PASSWORD):
    with transaction(runtime.sessions) as session:
        return create_user(
            session, email=email, name="Maria Lopez", role=role, password=password,
            actor="test", now=NOW,
        ).id  # fmt: skip


def test_a_user_signs_in_with_the_address_in_any_case_and_the_sign_in_is_recorded(runtime):
    user_id = _create(runtime)
    with transaction(runtime.sessions) as session:
        user = authenticate(session, "MARIA.lopez@brightpath.example", PASSWORD, now=NOW)
        assert user is not None and user.id == user_id
    with runtime.sessions() as session:
        stored = session.get(User, user_id)
        assert stored.email == "maria.lopez@brightpath.example"
        assert stored.last_login_at == NOW
        assert PASSWORD not in (stored.password_hash or "")


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("maria.lopez@brightpath.example", "wrong horse battery staple"),
        ("nobody@brightpath.example", PASSWORD),
        ("not an address", PASSWORD),
    ],
)
def test_wrong_credentials_open_nothing(runtime, email, password):
    _create(runtime)
    with transaction(runtime.sessions) as session:
        assert authenticate(session, email, password, now=NOW) is None


def test_a_disabled_user_cannot_sign_in_until_enabled_again(runtime):
    _create(runtime, email="admin@brightpath.example", role="admin")
    _create(runtime)
    with transaction(runtime.sessions) as session:
        disable_user(session, "maria.lopez@brightpath.example", actor="test", now=NOW)
    with transaction(runtime.sessions) as session:
        assert authenticate(session, "maria.lopez@brightpath.example", PASSWORD, now=NOW) is None
        enable_user(session, "maria.lopez@brightpath.example", actor="test", now=NOW)
    with transaction(runtime.sessions) as session:
        assert authenticate(session, "maria.lopez@brightpath.example", PASSWORD, now=NOW)


def test_the_last_active_admin_can_be_neither_disabled_nor_demoted(runtime):
    _create(runtime, email="admin@brightpath.example", role="admin")
    for action in (
        lambda s: disable_user(s, "admin@brightpath.example", actor="test", now=NOW),
        lambda s: change_role(s, "admin@brightpath.example", "viewer", actor="test", now=NOW),
    ):
        with (
            pytest.raises(UserError, match="last active admin"),
            transaction(runtime.sessions) as s,
        ):
            action(s)
    _create(runtime, email="second@brightpath.example", role="admin")
    with transaction(runtime.sessions) as session:
        change_role(session, "admin@brightpath.example", "viewer", actor="test", now=NOW)
        assert find_user(session, "admin@brightpath.example").role == "viewer"


@pytest.mark.parametrize(
    ("email", "role", "password", "message"),
    [
        ("maria@", "marketer", PASSWORD, "not a valid email address"),
        ("maria@brightpath.example", "owner", PASSWORD, "unknown role 'owner'"),
        ("maria@brightpath.example", "marketer", "short", "at least 12 characters"),
    ],
)
def test_bad_input_is_refused_with_its_reason_and_nothing_is_saved(
    runtime, email, role, password, message
):
    with pytest.raises(UserError, match=message):
        _create(runtime, email=email, role=role, password=password)
    with runtime.sessions() as session:
        assert session.scalars(select(User)).all() == []
        assert session.scalars(select(AuditLog)).all() == []


def test_every_change_is_in_the_audit_log_by_id_never_by_address(runtime):
    _create(runtime, email="admin@brightpath.example", role="admin")
    user_id = _create(runtime)
    with transaction(runtime.sessions) as session:
        change_role(session, "maria.lopez@brightpath.example", "viewer", actor="cli", now=NOW)
        disable_user(session, "maria.lopez@brightpath.example", actor="cli", now=NOW)
    with runtime.sessions() as session:
        rows = session.scalars(
            select(AuditLog).where(AuditLog.action.like("user.%")).order_by(AuditLog.id)
        ).all()
    mine = [(r.action, r.actor, r.detail) for r in rows if r.detail["user_id"] == user_id]
    assert mine == [
        ("user.created", "test", {"user_id": user_id, "role": "marketer"}),
        ("user.role_changed", "cli", {"user_id": user_id, "before": "marketer", "role": "viewer"}),
        ("user.disabled", "cli", {"user_id": user_id}),
    ]
    assert all("@" not in str(r.detail) for r in rows)


def test_the_cli_creates_lists_and_manages_users(app):
    runner = app.test_cli_runner()
    created = runner.invoke(
        cli,
        ["users", "create", "Ada@Brightpath.example", "--role", "admin", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert created.exit_code == 0, created.output
    assert "user ada@brightpath.example created (admin)" in created.output
    duplicate = runner.invoke(
        cli, ["users", "create", "ada@brightpath.example", "--role", "viewer", "--no-password"]
    )
    assert duplicate.exit_code == 1 and "exists already" in duplicate.output
    weak = runner.invoke(
        cli,
        ["users", "create", "sam@brightpath.example", "--role", "sales", "--password-stdin"],
        input="password\n",
    )
    assert weak.exit_code == 1 and "at least 12 characters" in weak.output
    prompted = runner.invoke(
        cli,
        ["users", "create", "sam@brightpath.example", "--role", "sales"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert prompted.exit_code == 0, prompted.output
    assert PASSWORD not in prompted.output
    last_admin = runner.invoke(cli, ["users", "disable", "ada@brightpath.example"])
    assert last_admin.exit_code == 1 and "last active admin" in last_admin.output
    assert (
        runner.invoke(cli, ["users", "role", "sam@brightpath.example", "sales-manager"]).exit_code
        == 0
    )
    assert runner.invoke(cli, ["users", "disable", "sam@brightpath.example"]).exit_code == 0
    listing = runner.invoke(cli, ["users", "list"])
    assert listing.exit_code == 0, listing.output
    assert "ada@brightpath.example" in listing.output and "sales-manager" in listing.output
    assert "disabled" in listing.output
    unknown = runner.invoke(
        cli,
        ["users", "password", "nobody@brightpath.example", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert unknown.exit_code == 1 and "no user" in unknown.output


def test_the_cli_invites_a_user_with_a_set_password_link_instead_of_a_password(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        cli, ["users", "create", "Kim@Brightpath.example", "--role", "viewer", "--invite"]
    )
    assert result.exit_code == 0, result.output
    link = result.stdout.strip()
    assert link.startswith("http://nurture.test/password/set/")
    assert "one-time link" in result.stderr
    with app.extensions["nurture"].sessions() as session:
        user = find_user(session, "kim@brightpath.example")
        assert user is not None and user.password_hash is None

    # The link opens the set-password page for that account.
    page = app.test_client().get(link.removeprefix("http://nurture.test"))
    assert page.status_code == 200 and "kim@brightpath.example" in page.get_data(as_text=True)
    both = runner.invoke(
        cli,
        [
            "users",
            "create",
            "x@brightpath.example",
            "--role",
            "viewer",
            "--invite",
            "--password-stdin",
        ],
        input="pw\n",
    )
    assert both.exit_code != 0 and "exclude each other" in both.output
