"""Cross-checks: rules that relate one part of ``sophia.yaml`` to another.

Each check is a small function from the spec to problems; :func:`cross_check` runs them all so
that ``sophia validate`` reports everything at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator

from sophia_platform.spec.model import Spec
from sophia_platform.spec.problems import Problem, problem

Check = Callable[[Spec], Iterator[Problem]]


def _did_you_mean(name: str, choices: list[str]) -> str | None:
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


def undeclared_secrets(spec: Spec) -> Iterator[Problem]:
    """A service consuming a secret that the manifest does not declare."""
    declared = list(spec.secrets)
    for name, svc in spec.services.items():
        for index, secret in enumerate(svc.secrets):
            if secret not in spec.secrets:
                hint = _did_you_mean(secret, declared) or f"add {secret} under secrets:"
                yield problem(
                    ("services", name, "secrets", index),
                    f"secret {secret!r} is not declared in the secrets manifest",
                    hint,
                )


def unsatisfiable_gpus(spec: Spec) -> Iterator[Problem]:
    """A GPU request that no node of the inventory can satisfy."""
    for name, svc in spec.services.items():
        if svc.gpu == 0 and svc.gpu_type is None:
            continue
        fitting = [
            node
            for node in spec.nodes.values()
            if node.gpu is not None
            and node.gpu.count >= max(svc.gpu, 1)
            and (svc.gpu_type is None or node.gpu_type == svc.gpu_type)
        ]
        if fitting:
            continue
        offer = sorted(f"{n}: {v.gpu.count}x {v.gpu.type}" for n, v in spec.nodes.items() if v.gpu)
        what = f"{svc.gpu} GPU(s)" + (f" of type {svc.gpu_type}" if svc.gpu_type else "")
        field = "gpu" if svc.gpu else "gpu_type"
        yield problem(
            ("services", name, field),
            f"requests {what} but no node can satisfy it",
            "nodes offer " + (", ".join(offer) if offer else "no GPUs"),
        )


def duplicate_ports(spec: Spec) -> Iterator[Problem]:
    """Two services (or two ports of one service) claiming the same port number."""
    owner: dict[int, str] = {}
    for name, svc in spec.services.items():
        mine: set[int] = set()
        entries: list[tuple[tuple[str, ...], int]] = []
        if svc.port is not None:
            entries.append((("port",), svc.port))
        entries.extend((("ports", pname), number) for pname, number in svc.ports.items())
        for sub, number in entries:
            loc = ("services", name, *sub)
            if number in mine:
                yield problem(loc, f"port {number} is declared twice for this service")
            elif number in owner:
                yield problem(loc, f"port {number} is already used by service {owner[number]!r}")
            mine.add(number)
            owner.setdefault(number, name)


def unknown_dependencies(spec: Spec) -> Iterator[Problem]:
    """``depends_on`` naming a service that does not exist (or the service itself)."""
    names = list(spec.services)
    for name, svc in spec.services.items():
        for index, dep in enumerate(svc.depends_on):
            loc = ("services", name, "depends_on", index)
            if dep == name:
                yield problem(loc, "a service cannot depend on itself")
            elif dep not in spec.services:
                yield problem(loc, f"unknown service {dep!r}", _did_you_mean(dep, names))


def storage_needs_statefulset(spec: Spec) -> Iterator[Problem]:
    """Persistent storage only makes sense on a StatefulSet."""
    for name, svc in spec.services.items():
        if svc.storage and svc.kind != "statefulset":
            yield problem(
                ("services", name, "storage"),
                "storage needs kind: statefulset",
                "add `kind: statefulset` to this service",
            )


def default_environment_exists(spec: Spec) -> Iterator[Problem]:
    """``default_environment`` must name an environment."""
    if spec.default_environment not in spec.environments:
        yield problem(
            ("default_environment",),
            f"unknown environment {spec.default_environment!r}",
            _did_you_mean(spec.default_environment, list(spec.environments)),
        )


def unique_secret_paths(spec: Spec) -> Iterator[Problem]:
    """Two manifest rows must not map to the same ESC path or GitHub name."""
    for layer in ("esc", "github"):
        seen: dict[str, str] = {}
        for name, entry in spec.secrets.items():
            value = getattr(entry, layer)
            if value in seen:
                yield problem(
                    ("secrets", name, layer),
                    f"{layer} name {value!r} is also used by secret {seen[value]!r}",
                )
            seen.setdefault(value, name)


def one_server(spec: Spec) -> Iterator[Problem]:
    """An inventory needs exactly one K3s server to bootstrap from."""
    if not spec.nodes:
        return
    servers = [n for n, node in spec.nodes.items() if node.role == "server"]
    if not servers:
        yield problem(("nodes",), "no node has role: server", "mark the control-plane node")
    for extra in servers[1:]:
        yield problem(
            ("nodes", extra, "role"),
            f"a second server (first: {servers[0]!r}); HA control planes are not supported yet",
        )


CHECKS: tuple[Check, ...] = (
    undeclared_secrets,
    unsatisfiable_gpus,
    duplicate_ports,
    unknown_dependencies,
    storage_needs_statefulset,
    default_environment_exists,
    unique_secret_paths,
    one_server,
)


# Which sections a check reads: when an entry of one was dropped as invalid, the check's
# verdict could be a consequence of the drop, so it is skipped (the entry's own error stands).
READS: dict[Check, tuple[str, ...]] = {
    undeclared_secrets: ("secrets",),
    unsatisfiable_gpus: ("nodes",),
    duplicate_ports: ("services",),
    unknown_dependencies: ("services",),
    default_environment_exists: ("environments",),
    unique_secret_paths: ("secrets",),
    one_server: ("nodes",),
}


def cross_check(spec: Spec, ignore: set[str] | frozenset[str] = frozenset()) -> list[Problem]:
    """Run every cross-check and return all problems found.

    ``ignore`` names entries (``services.api``) dropped because they were invalid; checks that
    read their section are skipped so that no problem is reported twice or wrongly.
    """
    broken_sections = {name.split(".", 1)[0] for name in ignore}
    return [
        p
        for check in CHECKS
        if not broken_sections.intersection(READS.get(check, ()))
        for p in check(spec)
    ]
