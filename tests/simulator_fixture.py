"""pytest plugin: the WDT simulator on a real port for the whole run, reset before each test that asks for it.

Load with `pytest_plugins = ["tests.simulator_fixture"]`.
"""

from __future__ import annotations

import threading

import pytest
import requests
from werkzeug.serving import make_server

from wdtpanel.simulator import AccessLogHandler, SimulatorAccount, create_simulator_app


class SimulatorHandle:
    """Talks to the running simulator through its /_sim/ hooks, as a person's browser or a script would."""

    def __init__(self, root_url: str, account: SimulatorAccount):
        self.root_url = root_url
        self.account = account
        self.http = requests.Session()

    def _post(self, path: str, payload: dict | None = None) -> dict:
        response = self.http.post(f"{self.root_url}{path}", json=payload or {}, timeout=10)
        response.raise_for_status()
        return response.json()

    def state(self) -> dict:
        response = self.http.get(f"{self.root_url}/_sim/state", timeout=10)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self._post("/_sim/reset")

    def advance(self, tid: str) -> dict:
        return self._post(f"/_sim/trades/{tid}/advance")

    def ship(self, tid: str, logistics_code: str, logistics_no: str, oids: list[str] | None = None) -> dict:
        """确认发货; returns the logistics-sync record it creates (with its rec_id)."""
        return self._post(
            f"/_sim/trades/{tid}/ship", {"logistics_code": logistics_code, "logistics_no": logistics_no, "oids": oids}
        )

    def set_faults(self, **settings) -> dict:
        return self._post("/_sim/faults", settings)

    def fail_next(self, kind: str, count: int = 1) -> dict:
        return self._post("/_sim/faults/next", {"kind": kind, "count": count})

    def add_goods(self, codes: list[str]) -> dict:
        return self._post("/_sim/goods", {"codes": list(codes)})

    def set_stock(self, spec_no: str, *, quantity: int | None = None, delta: int | None = None) -> dict:
        """A 盘点 (`quantity`) or an 出库/入库 (`delta`) in WDT; matched platform goods queue a stock change."""
        amounts = {"quantity": quantity} if quantity is not None else {"delta": delta}
        return self._post("/_sim/stock", {"spec_no": spec_no, **amounts})

    def set_quota(self, calls_per_minute: int | None) -> dict:
        """WDT's calls-per-minute quota for the account (a fresh window); None for none."""
        return self._post("/_sim/quota", {"calls_per_minute": calls_per_minute})

    def violations(self, rule: str | None = None) -> list[dict]:
        """The rules callers broke (docs/wdt-protocol.md anchors), optionally only `rule`."""
        return [item for item in self.state()["violations"] if rule is None or item["rule"] == rule]

    def reoffer(self, rec_id: str) -> dict:
        return self._post(f"/_sim/sync/{rec_id}/reoffer")


@pytest.fixture(scope="session")
def wdt_simulator_server():
    account = SimulatorAccount()
    server = make_server("127.0.0.1", 0, create_simulator_app(account), threaded=True, request_handler=AccessLogHandler)
    thread = threading.Thread(target=server.serve_forever, name="wdt-simulator", daemon=True)
    thread.start()
    handle = SimulatorHandle(f"http://127.0.0.1:{server.port}", account)
    yield handle
    handle.http.close()
    server.shutdown()
    thread.join(5)
    server.server_close()


@pytest.fixture
def wdt_simulator(wdt_simulator_server):
    """The simulator with its demo data and no faults; an injected "timeout" (a 504 after a while, well within the
    client's read timeout) comes after 0.2 s. Tests of the client's own read timeout set a longer one."""
    wdt_simulator_server.reset()
    wdt_simulator_server.set_faults(timeout_sleep_s=0.2)
    return wdt_simulator_server
