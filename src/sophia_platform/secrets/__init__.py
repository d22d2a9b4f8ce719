"""The secrets pipeline: manifest, providers (github, esc, kubernetes, local) and sync."""
