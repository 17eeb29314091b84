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


@pytest.fixture(scope="session")
def simulator_app():
    return create_simulator_app()


@pytest.fixture
def sim(simulator_app):
    """A fresh simulator (one app for the run, reset as a test of the whole system resets it), through Flask's test
    client."""
    client = simulator_app.test_client()
    client.post("/_sim/reset")
    return client


@pytest.fixture(params=["enterprise", "ultimate"])
def edition(request):
    return request.param
