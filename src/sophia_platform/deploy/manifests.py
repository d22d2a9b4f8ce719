"""The chart rendered with an environment's generated values, offline (``render manifests``)."""

from __future__ import annotations

from dataclasses import dataclass

from sophia_platform.deploy import helm
from sophia_platform.deploy.target import chart_dir, helm_binary, resolve
from sophia_platform.deploy.values import render_values, values_file
from sophia_platform.spec import Spec


@dataclass(frozen=True)
class RenderedManifests:
    """``helm template`` output of one environment: what a deploy would apply."""

    env: str
    release: str
    namespace: str
    text: str


def render_manifests(
    spec: Spec, env: str | None, *, image_tag: str | None = None
) -> RenderedManifests:
    """Run ``helm template`` of the packaged chart with the values ``sophia.yaml`` generates.

    No cluster is contacted, so the ``sophia.dev/secrets-hash`` stamp (a hash of the live
    Secrets, added by ``sophia deploy``) is left out; everything else is what a deploy applies.
    """
    target = resolve(spec, env)
    values = render_values(spec, target.env, image_tag=image_tag)
    with values_file(values) as path:
        argv = helm.template_offline(
            helm_binary(), target.release, target.namespace, chart_dir(), path
        )
        done = helm.run(argv, timeout=120)
    return RenderedManifests(target.env, target.release, target.namespace, done.stdout)
