"""API keys: shown once, stored hashed, verified in constant time, revocable."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from nurture.auth.apikeys import (
    create_api_key,
    hash_api_key,
    list_api_keys,
    revoke_api_key,
    verify_api_key,
)
from nurture.cli import (
    apikeys_cmd,  # noqa: F401  (registers the commands)
    cli,
)
from nurture.models import ApiKey
from nurture.platform.db import transaction

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def create(runtime, name="Zapier", now=NOW):
    with transaction(runtime.sessions) as session:
        return create_api_key(session, name, now=now)


def verify(runtime, presented, now=NOW):
    with transaction(runtime.sessions) as session:
        return verify_api_key(session, presented, now=now)


def test_a_key_has_the_documented_shape(runtime):
    key, plaintext = create(runtime)
    scheme, prefix, secret = plaintext.split("_", 2)
    assert scheme == "nrt"
    assert prefix == key.prefix and len(prefix) == 8 and prefix.isalnum()
    assert len(secret) >= 43  # 32 random bytes, urlsafe base64


def test_only_a_hash_of_the_key_is_stored(runtime):
    key, plaintext = create(runtime)
    secret = plaintext.split("_", 2)[2]
    with runtime.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM api_keys")).all()
    stored = " ".join(str(value) for value in rows[0])
    assert secret not in stored and plaintext not in stored
    assert key.key_hash == hash_api_key(plaintext) and len(key.key_hash) == 64


def test_the_key_verifies_and_wrong_or_malformed_ones_do_not(runtime):
    key, plaintext = create(runtime)
    assert verify(runtime, plaintext).id == key.id
    assert verify(runtime, f"  {plaintext} ").id == key.id
    assert verify(runtime, plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")) is None
    assert verify(runtime, f"nrt_{key.prefix}_") is None
    assert verify(runtime, "nrt_zzzzzzzz_" + plaintext.split("_", 2)[2]) is None
    assert verify(runtime, "Bearer " + plaintext) is None
    assert verify(runtime, "") is None


def test_keys_are_independent(runtime):
    first, _ = create(runtime, "one")
    second, second_plain = create(runtime, "two")
    assert first.prefix != second.prefix
    assert verify(runtime, second_plain).id == second.id
    # The secret of one key does not open another key's prefix.
    forged = f"nrt_{first.prefix}_{second_plain.split('_', 2)[2]}"
    assert verify(runtime, forged) is None


def test_a_revoked_key_no_longer_verifies(runtime):
    key, plaintext = create(runtime)
    later = NOW + timedelta(hours=1)
    with transaction(runtime.sessions) as session:
        assert revoke_api_key(session, key.prefix, now=later).revoked_at == later
    assert verify(runtime, plaintext) is None
    with transaction(runtime.sessions) as session:
        # Revoking again keeps the original time; a full key or nrt_<prefix> also works.
        again = revoke_api_key(session, plaintext, now=later + timedelta(days=1))
        assert again.revoked_at == later
        assert revoke_api_key(session, f"nrt_{key.prefix}", now=later).id == key.id
        assert revoke_api_key(session, "nosuchkey", now=later) is None


def test_last_used_is_refreshed_at_most_once_a_minute(runtime):
    key, plaintext = create(runtime)
    verify(runtime, plaintext, now=NOW)
    verify(runtime, plaintext, now=NOW + timedelta(seconds=30))
    with transaction(runtime.sessions) as session:
        assert session.get(ApiKey, key.id).last_used_at == NOW
    verify(runtime, plaintext, now=NOW + timedelta(seconds=61))
    with transaction(runtime.sessions) as session:
        assert session.get(ApiKey, key.id).last_used_at == NOW + timedelta(seconds=61)


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_key_needs_a_sensible_name(runtime, name):
    with pytest.raises(ValueError), transaction(runtime.sessions) as session:
        create_api_key(session, name, now=NOW)


def test_list_returns_keys_in_creation_order(runtime):
    create(runtime, "one")
    create(runtime, "two")
    with transaction(runtime.sessions) as session:
        assert [k.name for k in list_api_keys(session)] == ["one", "two"]


# ---------------------------------------------------------------- CLI


def test_cli_create_prints_the_key_once_and_list_never_shows_it(app):
    runner = app.test_cli_runner()
    created = runner.invoke(cli, ["apikeys", "create", "CRM sync"])
    assert created.exit_code == 0, created.output
    plaintext = created.stdout.strip()
    assert plaintext.startswith("nrt_") and "\n" not in plaintext
    assert "shown only this once" in created.output
    runtime = app.extensions["nurture"]
    assert verify(runtime, plaintext) is not None

    listed = runner.invoke(cli, ["apikeys", "list"])
    assert listed.exit_code == 0, listed.output
    prefix = plaintext.split("_")[1]
    assert "CRM sync" in listed.output and prefix in listed.output
    assert plaintext.split("_", 2)[2] not in listed.output


def test_cli_revoke(app):
    runtime = app.extensions["nurture"]
    key, plaintext = create(runtime)
    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["apikeys", "revoke", key.prefix])
    assert result.exit_code == 0, result.output
    assert "revoked" in result.output
    assert verify(runtime, plaintext) is None
    with transaction(runtime.sessions) as session:
        assert session.scalars(select(ApiKey.revoked_at)).one() is not None
    assert "already revoked" in runner.invoke(cli, ["apikeys", "revoke", key.prefix]).output
    missing = runner.invoke(cli, ["apikeys", "revoke", "nosuchkey"])
    assert missing.exit_code == 1 and "no API key" in missing.output


def test_cli_create_refuses_an_empty_name(app):
    result = app.test_cli_runner().invoke(cli, ["apikeys", "create", "  "])
    assert result.exit_code == 2
    assert "needs a name" in result.output
