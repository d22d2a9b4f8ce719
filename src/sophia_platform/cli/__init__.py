"""Typer command groups; thin layers that parse, call the core, and render."""
