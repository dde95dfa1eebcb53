"""A setting that cannot be used stops a command at once with one line naming it."""

import pytest
from click.testing import CliRunner

from nurture.cli import cli
from nurture.platform.config import ConfigError, Settings


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("smtp://mailer:s3cret@mail.example.com:port", "cannot read the host and port"),
        ("smtp://mailer:s3cret@mail.example.com?tls=maybe", "tls must be auto, required or off"),
        ("http://mailer:s3cret@mail.example.com", "the scheme must be smtp://"),
    ],
)
def test_a_malformed_smtp_url_is_one_line_naming_the_variable_without_the_password(
    tmp_path, url, reason
):
    result = CliRunner().invoke(
        cli,
        ["tick"],
        env={"NURTURE_INSTANCE_PATH": str(tmp_path), "NURTURE_SMTP_URL": url},
    )

    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: NURTURE_SMTP_URL='")
    assert reason in lines[0]
    assert "s3cret" not in result.output and "mailer:***@" in lines[0]


def test_the_smtp_url_is_checked_when_the_settings_are_read(tmp_path):
    with pytest.raises(ConfigError, match=r"NURTURE_SMTP_URL.*no host name"):
        Settings.from_env({"NURTURE_SMTP_URL": "smtp://"}, instance_path=tmp_path)

    settings = Settings.from_env(
        {"NURTURE_SMTP_URL": " smtp://mail.example.com:2525 "}, instance_path=tmp_path
    )
    assert settings.smtp_url == "smtp://mail.example.com:2525"
