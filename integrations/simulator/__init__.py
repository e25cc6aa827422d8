"""A Crédito na Medida-compatible bureau simulator (docs/bureau-api.md), standalone: it imports
nothing from app/, so it can stand in for the real bureau in the demo and in tests."""

from .app import SimulatorApp, create_simulator_app
from .config import FAULT_KINDS, SimulatorConfig
from .server import serve, start_in_thread

__all__ = [
    "FAULT_KINDS",
    "SimulatorApp",
    "SimulatorConfig",
    "create_simulator_app",
    "serve",
    "start_in_thread",
]
