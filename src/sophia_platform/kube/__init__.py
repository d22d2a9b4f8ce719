"""Thin helpers over the official kubernetes client: connect, watch rollouts, lease lock."""
