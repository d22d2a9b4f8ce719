"""Reading the objects of a release manifest, all of them or only some kinds."""

from __future__ import annotations

from sophia_platform.deploy.releases import manifest_objects

MANIFEST = """\
---
# Source: chart/templates/service.yaml
apiVersion: v1
kind: Service
metadata: {name: api}
---
# Source: chart/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  annotations: {note: "kind: StatefulSet in a value is not a kind"}
spec: {replicas: 2}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: redis}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {text: "---\\nkind: Deployment"}
"""


def test_all_objects_or_only_the_kinds_asked_for() -> None:
    every = manifest_objects(MANIFEST)
    assert [(d["kind"], d["metadata"]["name"]) for d in every] == [
        ("Service", "api"),
        ("Deployment", "api"),
        ("StatefulSet", "redis"),
        ("ConfigMap", "settings"),
    ]
    some = manifest_objects(MANIFEST, kinds=("Deployment", "StatefulSet"))
    assert some == [d for d in every if d["kind"] in ("Deployment", "StatefulSet")]
    assert manifest_objects(MANIFEST, kinds=("Ingress",)) == []
