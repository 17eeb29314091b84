"""A fake WDT (旺店通) server over real HTTP, speaking both editions, for the demo and the end-to-end tests."""

from .app import AccessLogHandler, create_simulator_app
from .state import SimulatorAccount

__all__ = ["AccessLogHandler", "SimulatorAccount", "create_simulator_app"]
