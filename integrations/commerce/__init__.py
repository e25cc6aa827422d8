"""The B2B commerce platform: customer XML in (seed 002), status and limit updates out (seeds 000, 001).

`CommercePlatform` is the port services depend on; `HttpCommercePlatform` the real adapter;
`simulator` a stand-in platform for the demo and the tests (`python -m integrations.commerce`).
"""

from .http_platform import HttpCommercePlatform
from .port import CommercePlatform, DeliveryResult

__all__ = ["CommercePlatform", "DeliveryResult", "HttpCommercePlatform"]
