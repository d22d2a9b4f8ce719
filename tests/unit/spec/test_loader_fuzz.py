"""Property test: random documents never make the loader raise anything but our own errors."""

from __future__ import annotations

import contextlib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from sophia_platform.errors import SophiaError
from sophia_platform.spec import validate_file

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)
)
keys = st.one_of(
    st.sampled_from(
        ["project", "registry", "environments", "nodes", "services", "secrets", "config", "port"]
    ),
    st.text(min_size=1, max_size=12),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)
    ),
    max_leaves=30,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(doc=documents)
def test_random_documents(tmp_path: Path, doc: object) -> None:
    path = tmp_path / "sophia.yaml"
    with path.open("w", encoding="utf-8") as handle:
        YAML(typ="safe", pure=True).dump(doc, handle)
    with contextlib.suppress(SophiaError):
        validate_file(path)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_random_bytes(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "sophia.yaml"
    path.write_bytes(raw)
    with contextlib.suppress(SophiaError):
        validate_file(path)
