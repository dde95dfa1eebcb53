"""Imports take their own batch size: the sender's NURTURE_BATCH_SIZE leaves it alone."""

import pytest

from nurture.platform.config import ConfigError, Settings


def test_imports_default_to_bigger_batches_than_the_sender(tmp_path):
    settings = Settings.from_env({"NURTURE_BATCH_SIZE": "50"}, instance_path=tmp_path)
    assert (settings.batch_size, settings.import_batch_size) == (50, 2000)


def test_the_import_batch_size_is_set_on_its_own(tmp_path):
    settings = Settings.from_env({"NURTURE_IMPORT_BATCH_SIZE": "300"}, instance_path=tmp_path)
    assert (settings.batch_size, settings.import_batch_size) == (500, 300)


def test_an_import_batch_of_no_rows_is_refused(tmp_path):
    with pytest.raises(ConfigError):
        Settings.from_env({"NURTURE_IMPORT_BATCH_SIZE": "0"}, instance_path=tmp_path)
