"""The simulator's Flask app."""

from __future__ import annotations

import re
from pathlib import Path
from typing import cast

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.serving import WSGIRequestHandler

from . import hooks, protocol
from .faults import DEFAULT_CALLS_PER_MINUTE, Faults, Quota
from .state import SimulatorAccount, SimulatorState


def create_simulator_app(
    account: SimulatorAccount | None = None,
    *,
    state_file: str | Path | None = None,
    calls_per_minute: int | None = DEFAULT_CALLS_PER_MINUTE,
) -> Flask:
    """A fake WDT for `account` (the demo account by default), in memory or kept in `state_file`, refusing calls
    beyond `calls_per_minute` (None: no quota) as WDT does."""
    app = Flask(__name__)
    cast(DefaultJSONProvider, app.json).ensure_ascii = False  # the provider Flask starts with
    app.extensions["wdt_simulator"] = SimulatorState(account or SimulatorAccount(), state_file)
    app.extensions["wdt_simulator_faults"] = Faults()
    app.extensions["wdt_simulator_quota"] = Quota(calls_per_minute)
    app.register_blueprint(protocol.bp)
    app.register_blueprint(hooks.bp)
    return app


class AccessLogHandler(WSGIRequestHandler):
    """Access log lines without the query string: the ultimate edition's carries the salt and the sign."""

    def log(self, type: str, message: str, *args) -> None:
        super().log(type, message, *(re.sub(r"\?\S*", "", arg) if isinstance(arg, str) else arg for arg in args))
