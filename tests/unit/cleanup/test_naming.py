from __future__ import annotations

import pytest

from sophia_platform.cleanup.naming import NodeRef, assign_names, key_name, nodes_from_spec
from sophia_platform.cleanup.planner import qualified_secret_name


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ("REDIS_HOST", "REDIS_HOST"),
        ("redis_url", "REDIS_HOST"),
        ("postgres-server", "POSTGRES_HOST"),
        ("INFERENCE_API_BASE_URL", "INFERENCE_API_HOST"),
        ("ai-core", "AI_CORE_HOST"),
        ("host", ""),
        ("IP", ""),
        ("", ""),
        ("1st", ""),
    ],
)
def test_key_name(context: str, expected: str) -> None:
    assert key_name(context) == expected


NODES = [NodeRef("ai-core", "NODE_AI_CORE_HOST", "GH200"), NodeRef("control", "NODE_CONTROL_HOST")]


def test_inventory_value_wins() -> None:
    names = assign_names({"10.0.0.5": ["REDIS_HOST"]}, NODES, {"NODE_AI_CORE_HOST": "10.0.0.5"})
    assert names == {"10.0.0.5": "NODE_AI_CORE_HOST"}


def test_context_naming_a_node_maps_to_it() -> None:
    names = assign_names({"10.0.0.5": ["ai-core", ""], "10.0.0.6": ["GH200_HOST"]}, NODES, {})
    assert names == {"10.0.0.5": "NODE_AI_CORE_HOST", "10.0.0.6": "NODE_AI_CORE_HOST_2"}


def test_stored_name_is_stable_across_runs() -> None:
    assert assign_names({"10.0.0.7": ["CACHE"]}, [], {"REDIS_HOST": "10.0.0.7"}) == {
        "10.0.0.7": "REDIS_HOST"
    }


def test_strongest_evidence_chooses_first_and_names_are_unique() -> None:
    contexts = {
        "10.0.0.1": ["REDIS_HOST"],
        "10.0.0.2": ["REDIS_HOST"] * 3 + ["cache"],
        "10.0.0.3": ["REDIS_HOST"],
        "10.0.0.4": ["", "host"],
    }
    assert assign_names(contexts, [], {}) == {
        "10.0.0.2": "REDIS_HOST",
        "10.0.0.1": "HOST_10_0_0_1",
        "10.0.0.3": "HOST_10_0_0_3",
        "10.0.0.4": "HOST_10_0_0_4",
    }


def test_nodes_from_spec() -> None:
    data = {
        "nodes": {
            "ai-core": {"address": "${NODE_AI_CORE_HOST}", "gpu": {"type": "GH200"}},
            "edge": {"address": "edge.example.com", "labels": {"gpu-type": "A10"}},
        }
    }
    assert nodes_from_spec(data) == [
        NodeRef("ai-core", "NODE_AI_CORE_HOST", "GH200"),
        NodeRef("edge", "NODE_EDGE_HOST", "A10"),
    ]


@pytest.mark.parametrize(
    ("text", "line", "name", "expected"),
    [
        ("redis:\n  host: x\n  password: changeme\n", 3, "PASSWORD", "REDIS_PASSWORD"),
        ("openai:\n  # key\n  api_key: x\n", 3, "API_KEY", "OPENAI_API_KEY"),
        ("password: x\n", 1, "PASSWORD", "PASSWORD"),
        ("stripe:\n  STRIPE_SECRET_KEY: x\n", 2, "STRIPE_SECRET_KEY", "STRIPE_SECRET_KEY"),
        ("- name: db\n  token: x\n", 2, "TOKEN", "TOKEN"),
    ],
)
def test_generic_yaml_secret_names_get_their_parent(
    text: str, line: int, name: str, expected: str
) -> None:
    assert qualified_secret_name(name, text.split("\n"), line) == expected
