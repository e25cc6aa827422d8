"""Adapters to the outside world: credit bureaus, commerce platforms and the bureau simulator."""
