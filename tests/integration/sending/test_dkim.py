"""DKIM: every email the engine sends is signed, the signature verifies with dkimpy against
the public key a DNS TXT record would publish, and it covers the one-click unsubscribe
headers. Keys are made with the openssl CLI, as an operator would."""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path

import dkim
import pytest
from sqlalchemy import select

from nurture.models import OutboxMessage
from nurture.platform.config import ConfigError
from nurture.platform.runtime import Runtime
from nurture.sending.dkim import DkimSigner
from nurture.sending.engine import Engine
from tests.integration.engine_support import T0, add_lead, enrol, sync_fixture_campaigns

SELECTOR = "nurture2026"
DOMAIN = "brightpath.example"


@pytest.fixture(scope="module")
def dkim_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """A 2048-bit RSA key file and the TXT record that publishes its public half."""
    folder = tmp_path_factory.mktemp("dkim")
    key = folder / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    public_der = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public_der)
    return key, record


def _dns(record: bytes):  # type: ignore[no-untyped-def]
    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode() else None

    return lookup


def _signed_runtime(runtime: Runtime, key: Path, **overrides: object) -> Runtime:
    return Runtime.from_settings(
        runtime.settings.with_overrides(dkim_key_file=key, dkim_selector=SELECTOR, **overrides)
    )


def _signed_headers(raw: bytes) -> list[str]:
    signature = re.search(rb"DKIM-Signature:(.*?)\r\n(?=\S)", raw, re.S)
    assert signature, "no DKIM-Signature header"
    tags = re.sub(rb"\s+", b"", signature.group(1))
    header_list = re.search(rb"(?:^|;)h=([^;]+)", tags)
    assert header_list
    return header_list.group(1).decode().lower().split(":")


def test_campaign_email_at_a_real_smtp_server_has_a_valid_signature(runtime, smtp_sink, dkim_key):
    key, record = dkim_key
    sync_fixture_campaigns(runtime)
    lead = add_lead(runtime, "signed@acme.example", first_name="Ada")
    enrol(runtime, lead)
    rt = _signed_runtime(runtime, key, smtp_url=smtp_sink.url)
    engine = Engine(rt)
    try:
        assert engine.tick(T0).sent == 1
    finally:
        engine.close()
        rt.close()
    [raw] = smtp_sink.raw
    assert dkim.verify(raw, dnsfunc=_dns(record))
    signed = _signed_headers(raw)
    for header in ("from", "to", "subject", "date", "message-id", "list-unsubscribe"):
        assert header in signed
    assert "list-unsubscribe-post" in signed
    [received] = smtp_sink.received
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "<https://" in received["List-Unsubscribe"] or "<http://" in received["List-Unsubscribe"]
    assert "<mailto:" in received["List-Unsubscribe"]


def test_a_changed_header_or_body_breaks_the_signature(runtime, smtp_sink, dkim_key):
    key, record = dkim_key
    sync_fixture_campaigns(runtime)
    lead = add_lead(runtime, "tamper@acme.example")
    enrol(runtime, lead)
    rt = _signed_runtime(runtime, key, smtp_url=smtp_sink.url)
    engine = Engine(rt)
    try:
        engine.tick(T0)
    finally:
        engine.close()
        rt.close()
    [raw] = smtp_sink.raw
    assert not dkim.verify(
        raw.replace(
            b"List-Unsubscribe-Post: List-Unsubscribe=One-Click", b"List-Unsubscribe-Post: nothing"
        ),
        dnsfunc=_dns(record),
    )
    head, _, body = raw.partition(b"\r\n\r\n")
    assert not dkim.verify(head + b"\r\n\r\n" + body.replace(b"a", b"e", 1), dnsfunc=_dns(record))


def test_outbox_keeps_the_signed_bytes(runtime, dkim_key):
    key, record = dkim_key
    sync_fixture_campaigns(runtime)
    lead = add_lead(runtime, "outbox@acme.example")
    enrol(runtime, lead)
    rt = _signed_runtime(runtime, key)
    engine = Engine(rt)
    try:
        assert engine.tick(T0).sent == 1
    finally:
        engine.close()
        rt.close()
    with runtime.sessions() as session:
        stored = session.scalars(select(OutboxMessage)).one()
    assert stored.raw.startswith(b"DKIM-Signature:")
    assert dkim.verify(stored.raw, dnsfunc=_dns(record))


def test_misconfigured_dkim_fails_at_start_up_with_the_variable_named(runtime, tmp_path, dkim_key):
    key, _ = dkim_key
    settings = runtime.settings
    with pytest.raises(ConfigError, match="NURTURE_DKIM_SELECTOR"):
        DkimSigner.from_settings(settings.with_overrides(dkim_key_file=key))
    with pytest.raises(ConfigError, match="NURTURE_DKIM_KEY_FILE"):
        DkimSigner.from_settings(
            settings.with_overrides(dkim_key_file=tmp_path / "missing.pem", dkim_selector="s")
        )
    garbage = tmp_path / "garbage.pem"
    garbage.write_text(
        "-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5\n-----END RSA PRIVATE KEY-----\n"
    )
    with pytest.raises(ConfigError, match="cannot sign"):
        DkimSigner.from_settings(settings.with_overrides(dkim_key_file=garbage, dkim_selector="s"))


def test_a_non_rsa_key_is_refused_at_start_up(runtime, tmp_path):
    key = tmp_path / "ec.pem"
    subprocess.run(
        ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(key)],
        check=True,
        capture_output=True,
    )
    with pytest.raises(ConfigError, match="RSA"):
        DkimSigner.from_settings(
            runtime.settings.with_overrides(dkim_key_file=key, dkim_selector="s")
        )
