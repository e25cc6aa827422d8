"""Adapter for the Crédito na Medida credit bureau."""

from integrations.credito_na_medida.client import CreditoNaMedidaClient

__all__ = ["CreditoNaMedidaClient"]
