"""The spec loader: positioned errors, cross-checks, and refusing bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from sophia_platform.errors import InputError, SpecError
from sophia_platform.spec import load_spec, validate_file

VALID = """\
project: demo
registry: docker.io/acme
environments:
  production: {context: prod, namespace: demo-prod, esc: acme/default/prod}
nodes:
  control: {role: server, address: "${NODE_CONTROL_HOST}"}
  gpu-a: {role: agent, address: "${NODE_GPU_A_HOST}", gpu: {type: A100, count: 2}}
services:
  api: {image: demo-api, tag: "1.0", port: 8000, health: /health, secrets: [OPENAI_API_KEY]}
  infer: {image: demo-infer, tag: "1.0", port: 8080, gpu: 2, gpu_type: A100}
  redis: {kind: statefulset, image: "redis:7", port: 6379, storage: 1Gi}
secrets:
  OPENAI_API_KEY: {description: key}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sophia.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    return [p.format() for p in validate_file(write(tmp_path, text)).problems]


def test_valid_spec_loads_with_defaults(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, VALID))
    assert spec.default_environment == "production"
    entry = spec.secrets["OPENAI_API_KEY"]
    assert (entry.github, entry.esc, entry.kubernetes.key) == (
        "OPENAI_API_KEY",
        "openai_api_key",
        "OPENAI_API_KEY",
    )
    assert spec.nodes["gpu-a"].address_var == "NODE_GPU_A_HOST"
    assert spec.nodes["gpu-a"].gpu_type == "A100"
    assert spec.image_ref("api") == "docker.io/acme/demo-api:1.0"
    assert spec.image_ref("redis") == "redis:7"
    assert spec.source_path == tmp_path / "sophia.yaml"


def test_example_spec_is_valid(example_spec_path: Path) -> None:
    spec = load_spec(example_spec_path)
    assert len(spec.services) == 15
    assert len(spec.nodes) == 5
    assert len(spec.secrets) >= 40
    assert {"production", "staging", "local"} <= set(spec.environments)
    mcp = [name for name in spec.services if name.startswith("mcp-")]
    assert len(mcp) == 11
    assert spec.services["api"].replicas == 3
    assert spec.services["inference"].gpu_type == "GH200"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("port: 8000,", "port: 70000,", "sophia.yaml:9:44: services.api.port: must be 1-65535"),
        (
            "namespace: demo-prod",
            "namspace: demo-prod",
            "sophia.yaml:4:31: environments.production.namspace: unknown key 'namspace' "
            "(hint: did you mean 'namespace'?)",
        ),
        (
            'address: "${NODE_CONTROL_HOST}"',
            "address: 10.0.0.12",
            "sophia.yaml:6:36: nodes.control.address: a literal IP address is not allowed",
        ),
        (
            "secrets: [OPENAI_API_KEY]",
            "secrets: [OPENAI_KEY]",
            "services.api.secrets[0]: secret 'OPENAI_KEY' is not declared in the secrets manifest "
            "(hint: did you mean 'OPENAI_API_KEY'?)",
        ),
        ("gpu: 2, gpu_type", "gpu: 3, gpu_type", "services.infer.gpu: requests 3 GPU(s)"),
        ("gpu_type: A100", "gpu_type: H100", "services.infer.gpu: requests 2 GPU(s) of type H100"),
        ("port: 8080,", "port: 8000,", "port 8000 is already used by service 'api'"),
        ("storage: 1Gi", "storage: lots", "services.redis.storage: 'lots' is not a Kubernetes"),
        ("kind: statefulset, ", "", "services.redis.storage: storage needs kind: statefulset"),
        (
            'tag: "1.0", port: 8000',
            'tag: "1.0", depends_on: [redsi], port: 8000',
            "unknown service 'redsi' (hint: did you mean 'redis'?)",
        ),
        ("role: server", "role: agent", "nodes: no node has role: server"),
        (
            "project: demo",
            "project: demo\ndefault_environment: prod",
            "default_environment: unknown environment 'prod'",
        ),
    ],
)
def test_each_problem_is_positioned(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in VALID
    found = problems(tmp_path, VALID.replace(old, new, 1))
    assert any(expected in line for line in found), found
    assert all(line.startswith(str(tmp_path / "sophia.yaml") + ":") for line in found)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        VALID.replace("port: 6379,", "port: 0,")
        .replace(
            "esc: acme/default/prod}", "esc: acme/default/prod}\n  dev: {context: d, namespace: D_}"
        )
        .replace("secrets: [OPENAI_API_KEY]", "secrets: [NOPE]")
        .replace("gpu: 2,", "gpu: 9,")
    )
    found = problems(tmp_path, text)
    assert len(found) == 4, found
    assert any("services.redis.port" in line for line in found)
    assert any("environments.dev.namespace" in line for line in found)
    assert any("services.api.secrets[0]" in line for line in found)
    assert any("services.infer.gpu" in line for line in found)


def test_missing_namespace_is_required(tmp_path: Path) -> None:
    found = problems(tmp_path, VALID.replace(", namespace: demo-prod", ""))
    assert any("environments.production.namespace: is required" in line for line in found)


def test_load_spec_raises_spec_error_with_all_problems(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("port: 8000,", "port: 0,").replace("gpu: 2,", "gpu: 5,"))
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert len(info.value.problems) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"project: [unclosed\n", "malformed YAML"),
        (b"\x00\x01\x02binary", "binary file"),
        (b"\xff\xfe\xfa not utf8", "not UTF-8"),
        (b"- a\n- b\n", "top level must be a mapping"),
        (b"", "top level must be a mapping"),
        (b"a: 1\n---\nb: 2\n", "2 YAML documents"),
        (b"a: &a [*a]\n", "refers to itself"),
    ],
)
def test_bad_input_is_one_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "sophia.yaml"
    path.write_bytes(content)
    try:
        result = validate_file(path)
    except InputError as exc:
        assert message in str(exc)
        assert "\n" not in str(exc)
    else:
        assert any(message in p.message for p in result.problems), result.problems


def test_billion_laughs_is_refused_quickly(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 9)}]")
    path = write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(InputError, match="alias bomb"):
        validate_file(path)


def test_huge_file_is_refused_without_reading(tmp_path: Path) -> None:
    path = tmp_path / "sophia.yaml"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    with pytest.raises(InputError, match=r"is 52\.4 MB"):
        validate_file(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        validate_file(tmp_path / "nope.yaml")
    with pytest.raises(InputError, match="is a directory"):
        validate_file(tmp_path)


def test_directory_with_sophia_yaml_is_accepted(tmp_path: Path) -> None:
    write(tmp_path, VALID)
    assert validate_file(tmp_path).ok


@pytest.mark.parametrize("key", ["Ingress", "Gpu", "Service"])
def test_unknown_top_level_keys_named_like_models(tmp_path: Path, key: str) -> None:
    found = problems(tmp_path, f"{key}: null\n" + VALID)
    assert any(f"{key}: unknown key {key!r}" in line for line in found), found
