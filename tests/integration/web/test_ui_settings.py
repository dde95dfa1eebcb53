"""The settings pages for admins: users and roles, API keys, the audit log viewer, and who
may reach them. Changes go through the same use cases as the CLI and are audited."""

from __future__ import annotations

import pytest

from nurture.auth import roles
from nurture.web import create_app
from tests.integration.web.settings_support import (
    KEY,
    LINK,
    audit_actions,
    post,
    signed_in_as,
    text,
    user_id,
)
from tests.integration.web.ui_support import csrf_token, signed_in_client

SETTINGS_PAGES = [
    "/settings",
    "/settings/users",
    "/settings/api-keys",
    "/settings/webhooks",
    "/settings/sending",
    "/settings/sending/suppressions",
    "/settings/brand",
    "/settings/audit",
]


@pytest.mark.parametrize("role", [r for r in roles.ROLES if r != "admin"])
def test_roles_without_settings_get_403_on_every_settings_page_and_change(app, role):
    client = signed_in_as(app, role)
    for path in SETTINGS_PAGES:
        assert client.get(path).status_code == 403, path
    token = csrf_token(client, "/account")
    for path in (
        "/settings/users",
        "/settings/api-keys",
        "/settings/sending/test",
        "/settings/brand",
    ):
        assert client.post(path, data={"csrf_token": token}).status_code == 403, path


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/settings/users")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_every_settings_page_renders_for_an_admin(app):
    client = signed_in_client(app, "admin")
    for path in SETTINGS_PAGES:
        response = client.get(path)
        assert response.status_code == 200, (path, text(response)[:500])
        assert 'aria-label="Settings"' in text(response)


def test_an_admin_invites_a_user_who_sets_a_password_and_signs_in(app, client, smtp_sink):
    admin = signed_in_client(app, "admin")
    assert "admin@example.com" in text(admin.get("/settings/users"))

    response = post(
        admin,
        "/settings/users",
        {"email": "Sam@Brightpath.example", "name": "Sam Reed", "role": "sales"},
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = text(response)
    assert "The user is created" in page
    link = LINK.search(page).group(1)

    # The account exists, without a password, audited with the admin as actor.
    sam = user_id(app, "sam@brightpath.example")
    admin_id = user_id(app, "admin@example.com")
    assert ("user.created", f"user:{admin_id}", {"user_id": sam, "role": "sales"}) in (
        audit_actions(app, "user.")
    )
    listing = text(admin.get("/settings/users"))
    assert "sam@brightpath.example" in listing and "invited" in listing

    # The invited person opens the link, chooses a password and signs in.
    path = link.removeprefix("http://nurture.test")
    token = csrf_token(client, path)
    chosen = "a long and winding road 42"
    response = client.post(path, data={"password": chosen, "confirm": chosen, "csrf_token": token})
    assert response.status_code == 302
    token = csrf_token(client, "/login")
    response = client.post(
        "/login?next=/account",
        data={"email": "sam@brightpath.example", "password": chosen, "csrf_token": token},
    )
    assert response.status_code == 302
    # The link worked once.
    assert client.get(path).status_code == 404


def test_the_invitation_goes_by_email_with_the_brand_name(app, settings, smtp_sink):

    smtp_app = create_app(
        {"NURTURE_SETTINGS": settings.with_overrides(smtp_url=smtp_sink.url), "TESTING": True}
    )
    try:
        admin = signed_in_client(smtp_app, "admin")
        post(
            admin,
            "/settings/brand",
            {"company_name": "Acme Rockets", "postal_address": "", "primary_colour": ""},
            page="/settings/brand",
        )
        response = post(
            admin, "/settings/users", {"email": "kim@acme.example", "name": "Kim", "role": "viewer"}
        )
        link = LINK.search(text(response)).group(1)
        assert "An email with the link went to kim@acme.example" in text(response)
        [message] = smtp_sink.received
        assert message["To"] == "kim@acme.example"
        assert message["Subject"] == "Your Acme Rockets account"
        assert link in message.get_content()
    finally:
        smtp_app.extensions["nurture"].close()


def test_a_refusing_mail_server_still_gives_the_admin_the_link(app, settings, smtp_sink):

    smtp_sink.fail_next = ["554 5.7.1 relay denied"]
    smtp_app = create_app(
        {"NURTURE_SETTINGS": settings.with_overrides(smtp_url=smtp_sink.url), "TESTING": True}
    )
    try:
        admin = signed_in_client(smtp_app, "admin")
        response = post(
            admin, "/settings/users", {"email": "kim@acme.example", "name": "", "role": "viewer"}
        )
        assert response.status_code == 200
        assert "could not be sent" in text(response) and "relay denied" in text(response)
        assert LINK.search(text(response))
    finally:
        smtp_app.extensions["nurture"].close()


def test_a_bad_new_user_form_shows_errors_beside_the_fields_and_saves_nothing(app):
    admin = signed_in_client(app, "admin")
    before = audit_actions(app, "user.created")
    for data, message in [
        ({"email": "not an address", "name": "X", "role": "viewer"}, "Invalid email address."),
        ({"email": "admin@example.com", "name": "X", "role": "viewer"}, "exists already"),
        ({"email": "x@example.com", "name": "X", "role": "owner"}, "Not a valid choice"),
        (
            {"email": "x@example.com", "name": "<script>alert(1)</script>" * 20, "role": "viewer"},
            "Field cannot be longer than 200 characters.",
        ),
        ({"email": "a" * 5000 + "@example.com", "name": "X", "role": "viewer"}, "email-error"),
    ]:
        response = post(admin, "/settings/users", data)
        assert response.status_code == 422, data
        assert message in text(response), data
        assert "<script>alert(1)</script>" not in text(response)
    assert audit_actions(app, "user.created") == before


def test_roles_change_accounts_are_disabled_and_enabled_and_each_change_is_audited(app):
    admin = signed_in_client(app, "admin")
    signed_in_client(app, "marketer")
    marketer = user_id(app, "marketer@example.com")
    page = f"/settings/users/{marketer}"
    assert "marketer@example.com" in text(admin.get(page))

    response = post(admin, f"{page}/role", {"role": "viewer"}, page=page)
    assert response.status_code == 302
    assert "The role is changed." in text(admin.get(page))
    assert post(admin, f"{page}/disable", page=page).status_code == 302
    assert "disabled" in text(admin.get("/settings/users"))
    assert post(admin, f"{page}/enable", page=page).status_code == 302

    actions = [(a, d) for a, _, d in audit_actions(app, "user.") if d.get("user_id") == marketer]
    assert actions[1:] == [
        ("user.role_changed", {"user_id": marketer, "before": "marketer", "role": "viewer"}),
        ("user.disabled", {"user_id": marketer}),
        ("user.enabled", {"user_id": marketer}),
    ]
    # The permission guard also audited each POST of the app, by endpoint.
    app_rows = [a for a, _, _ in audit_actions(app, "app.ui_settings.user_")]
    assert app_rows == [
        "app.ui_settings.user_role",
        "app.ui_settings.user_disable",
        "app.ui_settings.user_enable",
    ]


def test_the_last_active_admin_can_be_neither_demoted_nor_disabled(app):
    admin = signed_in_client(app, "admin")
    me = user_id(app, "admin@example.com")
    page = f"/settings/users/{me}"
    response = post(admin, f"{page}/role", {"role": "viewer"}, page=page)
    assert response.status_code == 422
    assert "last active admin" in text(response)
    assert 'id="role-error"' in text(response)
    response = post(admin, f"{page}/disable", page=page)
    assert response.status_code == 422
    assert "last active admin" in text(response)
    # Nothing changed, nothing audited; the admin still works.
    assert [a for a, _, _ in audit_actions(app, "user.") if a != "user.created"] == []
    assert admin.get("/settings").status_code == 200


def test_resending_an_invitation_gives_a_new_link_and_unknown_users_are_404(app):
    admin = signed_in_client(app, "admin")
    post(admin, "/settings/users", {"email": "kim@acme.example", "name": "", "role": "viewer"})
    kim = user_id(app, "kim@acme.example")
    response = post(admin, f"/settings/users/{kim}/invite", page=f"/settings/users/{kim}")
    assert response.status_code == 200
    assert "A new link is on its way" in text(response) and LINK.search(text(response))
    for bad in ("999999", "99999999999999999999", "abc", "%00", "-1"):
        response = admin.get(f"/settings/users/{bad}")
        assert response.status_code == 404, bad
    assert post(admin, "/settings/users/999999/disable").status_code == 404
    assert post(admin, "/settings/users/999999/invite").status_code == 404


def test_an_api_key_is_shown_once_works_with_the_api_and_stops_when_revoked(app):
    admin = signed_in_client(app, "admin")
    response = post(admin, "/settings/api-keys", {"name": "zapier"}, page="/settings/api-keys")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    plaintext = KEY.search(text(response)).group(1)
    # Never again: not on the list, not in a cookie.
    listing = text(admin.get("/settings/api-keys"))
    assert plaintext not in listing and plaintext[:12] in listing
    assert all(plaintext not in c.value for c in admin._cookies.values())

    api = app.test_client()
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert api.get("/api/v1/leads", headers=headers).status_code == 200
    assert "never" not in text(admin.get("/settings/api-keys")).split("zapier")[1][:400]

    key_id = int(
        text(admin.get("/settings/api-keys")).split("/settings/api-keys/")[1].split("/")[0]
    )
    confirm = admin.get(f"/settings/api-keys/{key_id}/revoke")
    assert "Revoke the key zapier?" in text(confirm)
    response = post(
        admin, f"/settings/api-keys/{key_id}/revoke", page=f"/settings/api-keys/{key_id}/revoke"
    )
    assert response.status_code == 302
    assert "revoked" in text(admin.get("/settings/api-keys"))
    assert api.get("/api/v1/leads", headers=headers).status_code == 401
    assert "app.ui_settings.key_revoke" in [a for a, _, _ in audit_actions(app, "app.")]
    assert admin.get("/settings/api-keys/99999999999999999999/revoke").status_code == 404


def test_a_bad_api_key_name_is_refused_beside_the_field(app):
    admin = signed_in_client(app, "admin")
    for name, message in [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("k" * 101, "cannot be longer than 100"),
    ]:
        response = post(admin, "/settings/api-keys", {"name": name}, page="/settings/api-keys")
        assert response.status_code == 422
        assert message in text(response)
        assert 'id="name-error"' in text(response)
    assert "No API keys yet." in text(admin.get("/settings/api-keys"))


def test_the_audit_log_names_users_and_filters_by_who_what_and_when(app):
    admin = signed_in_client(app, "admin")
    me = user_id(app, "admin@example.com")
    post(admin, "/settings/users", {"email": "kim@acme.example", "name": "", "role": "viewer"})
    post(admin, "/settings/api-keys", {"name": "crm"}, page="/settings/api-keys")

    page = text(admin.get("/settings/audit"))
    assert 'Admin <span class="muted">(user:' in page
    assert "user.created" in page and "app.ui_settings.keys_create" in page

    mine = text(admin.get(f"/settings/audit?actor=user:{me}&action=user."))
    assert "user.created" in mine and "keys_create" not in mine
    assert "Nothing matches." in text(
        admin.get("/settings/audit?since=2001-01-01&until=2001-01-02")
    )
    for query in (
        "since=yesterday",
        "until=2026-13-01",
        "since=2026-12-06&until=2026-12-01",
        "actor=" + "x" * 500,
        "action=%00",
        "after=garbage",
    ):
        response = admin.get(f"/settings/audit?{query}")
        assert response.status_code in (200, 400), query
        assert "Audit log" in text(response)
    assert admin.get("/settings/audit?since=yesterday").status_code == 400
