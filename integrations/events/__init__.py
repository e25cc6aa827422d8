"""Outbound events to the ISP's systems: the signature scheme (`signing`, shared with the receiver),
the sender port (`port`) and its HTTP adapter (`http_sender`). See docs/events.md."""
