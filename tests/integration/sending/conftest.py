"""Fixtures of the sending tests."""

import pytest

from tests.integration.engine_support import sync_fixture_campaigns


@pytest.fixture
def drip(runtime):  # type: ignore[no-untyped-def]
    """The runtime with the fixture campaigns synced."""
    assert sync_fixture_campaigns(runtime) is not None
    return runtime
