"""The B2B commerce platform: customer XML in, status and limit updates out.

`CommercePlatform` (in `port`) is what services depend on; `http_platform.HttpCommercePlatform` is
the real adapter, built in `app/bootstrap.py` (the package does not import it, so importing the
port never pulls in `requests`); `simulator` is a stand-in platform for the demo and the tests
(`python -m integrations.commerce`).
"""

from .port import CommercePlatform, DeliveryResult

__all__ = ["CommercePlatform", "DeliveryResult"]
