"""Fixtures the unit tests of the WDT client and simulator share."""

from __future__ import annotations

import pytest
import responses

from wdtpanel.simulator import create_simulator_app


@pytest.fixture
def wdt():
    """WDT mocked by `responses`."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def sim():
    """A fresh simulator, through Flask's test client."""
    return create_simulator_app().test_client()


@pytest.fixture(params=["enterprise", "ultimate"])
def edition(request):
    return request.param
