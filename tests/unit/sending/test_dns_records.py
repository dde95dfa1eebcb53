"""The DNS records the settings page tells an admin to publish."""

from __future__ import annotations

from pathlib import Path

import pytest

from nurture.platform.config import ConfigError, Settings
from nurture.sending.dns_records import dkim_record, dmarc_hint, spf_hint, split_txt


def _settings(**changes: object) -> Settings:
    return Settings(
        instance_path=Path("/tmp"),
        database_url="sqlite://",
        secret_key="k",
        mail_from="Brightpath <Hello@Brightpath.Example>",
    ).with_overrides(**changes)


def test_long_values_are_split_into_strings_of_at_most_255_characters():
    value = "p=" + "A" * 600
    pieces = split_txt(value)
    assert [len(p) for p in pieces] == [255, 255, 92]
    assert "".join(pieces) == value
    assert split_txt("") == ("",)


def test_spf_and_dmarc_start_from_the_sending_domain_and_relay():
    settings = _settings(smtp_url="smtp://user:pw@mail.relay.example:587")
    assert spf_hint(settings).value == "v=spf1 mx a:mail.relay.example ~all"
    assert spf_hint(_settings()).value == "v=spf1 mx ~all"
    dmarc = dmarc_hint(settings)
    assert dmarc.name == "_dmarc.brightpath.example"
    assert dmarc.value.startswith("v=DMARC1; p=none; rua=mailto:dmarc-reports@brightpath.example")


def test_no_dkim_record_without_a_key_and_a_clear_error_for_a_bad_one(tmp_path):
    assert dkim_record(_settings()) is None
    with pytest.raises(ConfigError, match="SELECTOR"):
        dkim_record(_settings(dkim_key_file=tmp_path / "k.pem"))
    with pytest.raises(ConfigError, match="cannot read it"):
        dkim_record(_settings(dkim_key_file=tmp_path / "missing.pem", dkim_selector="s"))
    (tmp_path / "bad.pem").write_text("-----BEGIN PRIVATE KEY-----\nnope\n")
    with pytest.raises(ConfigError, match="cannot be read"):
        dkim_record(_settings(dkim_key_file=tmp_path / "bad.pem", dkim_selector="s"))
