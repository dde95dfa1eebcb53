"""``NURTURE_SIMULATED_TIME`` is for demo and test instances: an instance that mails real
people (an SMTP server is configured) refuses to start with it, in one line."""

import pytest
from click.testing import CliRunner

from nurture.cli import cli
from nurture.platform.config import ConfigError, Settings

REFUSAL = (
    "Error: NURTURE_SIMULATED_TIME=1 is refused in production mode (NURTURE_SMTP_URL is set, "
    "so real people get the mail): simulated time is for demo and test instances on the "
    "local outbox"
)


@pytest.mark.parametrize("command", [["tick"], ["serve"], ["worker"], ["outbox", "list"]])
def test_production_mode_refuses_simulated_time_at_start_in_one_line(tmp_path, command):
    result = CliRunner().invoke(
        cli,
        command,
        env={
            "NURTURE_INSTANCE_PATH": str(tmp_path),
            "NURTURE_SMTP_URL": "smtp://mailer:s3cret@mail.example.com:587",
            "NURTURE_SIMULATED_TIME": "1",
        },
    )

    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [REFUSAL]
    assert "s3cret" not in result.output


def test_the_setting_is_off_by_default_and_read_as_a_flag(tmp_path):
    assert Settings.from_env({}, instance_path=tmp_path).simulated_time is False
    assert Settings.from_env({"NURTURE_SIMULATED_TIME": "1"}, instance_path=tmp_path).simulated_time
    with pytest.raises(ConfigError, match=r"^NURTURE_SIMULATED_TIME='sometimes': use 1 or 0$"):
        Settings.from_env({"NURTURE_SIMULATED_TIME": "sometimes"}, instance_path=tmp_path)


def test_no_copy_of_the_settings_can_combine_simulated_time_with_an_smtp_server(tmp_path):
    settings = Settings.from_env({"NURTURE_SIMULATED_TIME": "1"}, instance_path=tmp_path)
    with pytest.raises(ConfigError, match="refused in production mode"):
        settings.with_overrides(smtp_url="smtp://mail.example.com:587")
    # Off, an SMTP server is simply production, as always.
    Settings.from_env({"NURTURE_SMTP_URL": "smtp://mail.example.com:587"}, instance_path=tmp_path)
