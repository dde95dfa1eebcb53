"""The role table and the password policy (pure)."""

from __future__ import annotations

import pytest

from nurture.auth import roles
from nurture.auth.passwords import hash_password, password_problem, verify_password


def test_every_role_grants_only_known_permissions_and_admin_grants_all():
    for role, granted in roles.PERMISSIONS.items():
        assert granted <= roles.ALL_PERMISSIONS, role
    assert roles.PERMISSIONS["admin"] == roles.ALL_PERMISSIONS
    assert set(roles.ROLES) == {"admin", "marketer", "sales", "sales-manager", "viewer"}


@pytest.mark.parametrize(
    ("role", "permission", "allowed"),
    [
        ("viewer", roles.LEADS_VIEW, True),
        ("viewer", roles.LEADS_EDIT, False),
        ("marketer", roles.CAMPAIGNS_EDIT, True),
        ("marketer", roles.LEADS_ERASE, False),
        ("sales", roles.SALES_OWN, True),
        ("sales", roles.SALES_MANAGE, False),
        ("sales-manager", roles.SALES_MANAGE, True),
        ("sales-manager", roles.CAMPAIGNS_EDIT, False),
        ("admin", roles.LEADS_ERASE, True),
        ("admin", roles.SETTINGS_MANAGE, True),
        ("marketer", roles.SETTINGS_MANAGE, False),
        ("intern", roles.LEADS_VIEW, False),
    ],
)
def test_may(role, permission, allowed):
    assert roles.may(role, permission) is allowed


def test_an_unknown_role_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="unknown role 'owner': use one of admin, marketer"):
        roles.check_role("owner")


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 12 characters"),
        (" " * 20, "more than spaces"),
        ("aaaaaaaaaaaaaaaa", "more different characters"),
        ("maria.lopez-2026!", "email address"),
        ("x" * 1025, "at most 1024 characters"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password, problem):
    found = password_problem(password, email="maria.lopez@brightpath.example")
    assert found is not None and problem in found


def test_a_good_password_passes_and_verifies_against_its_hash_only():
    password = "correct horse battery staple"
    assert password_problem(password, email="maria.lopez@brightpath.example") is None
    stored = hash_password(password)
    assert stored.startswith("$argon2id$") and password not in stored
    assert verify_password(stored, password)
    assert not verify_password(stored, password + "!")
    assert not verify_password(None, password)
    assert not verify_password("not-a-hash", password)
