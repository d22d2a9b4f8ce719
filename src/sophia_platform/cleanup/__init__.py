"""Turn audit findings into reviewed, reversible changes; migrate compose files into the spec."""
