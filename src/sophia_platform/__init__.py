"""Sophia Platform: one command, one secret flow and one source of truth on K3s."""

__version__ = "0.1.0"
