"""NURTURE_TRUSTED_PROXIES: how many reverse proxies' X-Forwarded-* headers are believed."""

import pytest

from nurture.platform.config import ConfigError, Settings


def test_trusted_proxies_is_a_count_of_at_least_zero(tmp_path):
    assert Settings.from_env({}, instance_path=tmp_path).trusted_proxies == 0
    env = {"NURTURE_TRUSTED_PROXIES": "2"}
    assert Settings.from_env(env, instance_path=tmp_path).trusted_proxies == 2
    with pytest.raises(ConfigError, match="NURTURE_TRUSTED_PROXIES='-1': must be a whole"):
        Settings.from_env({"NURTURE_TRUSTED_PROXIES": "-1"}, instance_path=tmp_path)
