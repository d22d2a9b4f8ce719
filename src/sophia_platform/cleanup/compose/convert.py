"""Convert one loaded compose service into a ``services:`` entry of ``sophia.yaml``.

Every key of the compose service is either converted or reported as :class:`Unconverted` with
its file and line — nothing is dropped silently (kompose does; see kompose#456). Facts the spec
model has no field for (restart policy, exec health checks, depends_on conditions, volume mount
paths) are kept as ``annotations`` and reported as such.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sophia_platform.cleanup.compose.interpolate import parse_dotenv, references
from sophia_platform.cleanup.compose.loader import ComposeFile, ComposeService, env_mapping
from sophia_platform.cleanup.compose.secretlike import is_secret_entry

DEFAULT_STORAGE = "10Gi"
ANNOTATION = "sophia.dev/compose-"
# Spec field order, so a migrated service reads like a hand-written one.
FIELD_ORDER = (
    "image",
    "tag",
    "kind",
    "port",
    "ports",
    "replicas",
    "health",
    "resources",
    "gpu",
    "gpu_type",
    "storage",
    "depends_on",
    "command",
    "args",
    "env",
    "secrets",
    "annotations",
)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_URL = re.compile(r"https?://[^/\s\"']+(/[^\s\"']*)?")
_GPU_TYPE = re.compile(r"^node\.labels\.gpu[-_]type\s*==\s*(\S+)$")
_MEMORY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*([kmgt]?)(i?b?)$", re.IGNORECASE)

# Keys with no equivalent, and the reason shown to the user.
_NO_EQUIVALENT: dict[str, str] = {
    "build": "images are built in CI; the service uses the image name",
    "container_name": "Kubernetes names pods itself",
    "networks": "every service shares the namespace network and is reached by its name",
    "network_mode": "pods have their own network namespace",
    "links": "services reach each other by name",
    "external_links": "services reach each other by name",
    "hostname": "pods get their name as hostname",
    "labels": "set labels in the chart values",
    "logging": "cluster logging collects stdout",
    "privileged": "privileged pods need an explicit chart override",
    "cap_add": "capabilities need an explicit chart override",
    "cap_drop": "capabilities need an explicit chart override",
    "extra_hosts": "use DNS or config keys instead of host entries",
    "configs": "ship configuration in the image or a ConfigMap",
    "ulimits": "not settable per pod in Kubernetes",
    "stdin_open": "not applicable to Deployments",
    "tty": "not applicable to Deployments",
    "user": "set securityContext in the chart values",
    "working_dir": "set WORKDIR in the image",
    "platform": "pick nodes by labels in sophia.yaml nodes",
    "pull_policy": "the chart sets the pull policy",
    "profiles": "every service in sophia.yaml is deployed",
    "stop_grace_period": "the chart sets terminationGracePeriodSeconds",
    "shm_size": "mount an emptyDir (medium Memory) via the chart",
    "devices": "host devices need an explicit chart override",
    "tmpfs": "mount an emptyDir via the chart",
    "security_opt": "set securityContext in the chart values",
    "sysctls": "set securityContext in the chart values",
    "ipc": "not supported by the chart",
    "pid": "not supported by the chart",
    "init": "not applicable to Kubernetes",
    "dns": "cluster DNS is used",
    "dns_search": "cluster DNS is used",
    "mem_limit": "use deploy.resources.limits.memory",
    "cpus": "use deploy.resources.limits.cpus",
}


@dataclass(frozen=True)
class Unconverted:
    """A compose key (path like ``deploy.mode``) that has no place in ``sophia.yaml``."""

    file: str
    line: int
    service: str
    key: str
    reason: str


@dataclass
class Converted:
    """The spec fields of one service, the secrets it needs, and what was not converted."""

    name: str
    compose_name: str
    source: str
    fields: dict[str, Any]
    secrets: dict[str, str] = field(default_factory=dict)  # NAME -> description
    unconverted: list[Unconverted] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# Top-level compose keys, and why each has no place in sophia.yaml ("" = nothing to convert).
_TOP_LEVEL: dict[str, str] = {
    "version": "",
    "name": "",
    "volumes": "volume definitions (drivers, sizes) are not converted; "
    "named volumes of services became storage",
    "networks": "every service shares the namespace network",
    "secrets": "secret values come from the secrets manifest, not files",
    "configs": "ship configuration in the image or a ConfigMap",
    "include": "included files are not followed; pass them to `sophia migrate compose` too",
}


def top_level_unconverted(compose: ComposeFile, shown: str) -> list[Unconverted]:
    """Top-level keys of a compose file that carry something sophia.yaml does not take."""
    found: list[Unconverted] = []
    for key, value in compose.top_level.items():
        reason = _TOP_LEVEL.get(key)
        if key.startswith("x-"):
            reason = "extension field (its anchors were applied to the services)"
        elif reason is None:
            reason = "no equivalent in sophia.yaml"
        # `volumes: {data: {}}` only declares names: nothing is lost by not converting it.
        carries = any(value.values()) if isinstance(value, dict) else bool(value)
        if reason and carries:
            found.append(
                Unconverted(shown, compose.top_lines.get(key, 1), "(top level)", key, reason)
            )
    return found


def service_name(name: str) -> str:
    """A compose service name as a DNS label (``my_api`` → ``my-api``)."""
    label = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    if not label or not label[0].isalpha():
        label = f"svc-{label}".rstrip("-")
    return label[:63].rstrip("-")


def convert_service(svc: ComposeService, root: Path | None = None) -> Converted:
    """Map one compose service onto spec fields (see module docstring)."""
    shown = _shown(svc.source, root)
    out = Converted(service_name(svc.name), svc.name, shown, {})
    ctx = _Ctx(svc, out, shown)
    for key, value in svc.data.items():
        handler = _HANDLERS.get(key)
        if handler is not None:
            handler(ctx, value)
        elif key.startswith("x-"):
            ctx.skip(key, "compose extension field; no meaning in sophia.yaml")
        else:
            ctx.skip(key, _NO_EQUIVALENT.get(key, "no equivalent in sophia.yaml"))
    ctx.finish()
    return out


def _shown(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return str(path)


class _Ctx:
    def __init__(self, svc: ComposeService, out: Converted, shown: str) -> None:
        self.svc = svc
        self.out = out
        self.shown = shown
        self.fields = out.fields
        self.annotations: dict[str, str] = {}
        self.env: dict[str, str] = {}
        self.secrets: list[str] = []
        self.ports: list[tuple[int, str]] = []

    def skip(self, key: str, reason: str) -> None:
        top = key.split(".", 1)[0]
        line = self.svc.key_lines.get(top, self.svc.line)
        self.out.unconverted.append(Unconverted(self.shown, line, self.svc.name, key, reason))

    def annotate(self, name: str, value: str, note: str) -> None:
        self.annotations[ANNOTATION + name] = value
        self.out.notes.append(note)

    def add_env(self, key: str, raw: str | None, value: str | None, origin: str) -> None:
        if not _ENV_NAME.match(key):
            self.skip(f"{origin}.{key}", "not a valid environment variable name")
            return
        if is_secret_entry(key, raw, references(raw or "")):
            self.env.pop(key, None)
            if key not in self.secrets:
                self.secrets.append(key)
            self.out.secrets[key] = f"from {self.shown} service {self.svc.name} ({origin})"
            return
        if value is None:
            self.skip(f"{origin}.{key}", "no value: it is read from the shell at run time")
            return
        self.env[key] = value

    def finish(self) -> None:
        if self.ports:
            self.fields["port"] = self.ports[0][0]
            extra = {f"{proto}-{port}": port for port, proto in self.ports[1:]}
            if extra:
                self.fields["ports"] = extra
        if self.env:
            self.fields["env"] = dict(sorted(self.env.items()))
        if self.secrets:
            self.fields["secrets"] = sorted(self.secrets)
        if self.annotations:
            self.fields["annotations"] = dict(sorted(self.annotations.items()))
        if "image" not in self.fields:
            self.fields["image"] = self.out.name
            self.out.notes.append(f"no image: named it {self.out.name!r} (build it in CI)")
        ordered = {k: self.fields[k] for k in FIELD_ORDER if k in self.fields}
        self.fields.clear()
        self.fields.update(ordered)


def _image(ctx: _Ctx, value: Any) -> None:
    ref = str(value).strip()
    if not ref:
        ctx.skip("image", "empty image (an unset variable?)")
        return
    name, tag = split_image(ref)
    ctx.fields["image"] = name
    if tag:
        ctx.fields["tag"] = tag


def split_image(ref: str) -> tuple[str, str | None]:
    """``registry:5000/team/api:1.2`` → (``registry:5000/team/api``, ``1.2``); digests kept."""
    if "@" in ref:
        return ref, None
    head, _, last = ref.rpartition("/")
    if ":" in last:
        repo, _, tag = last.partition(":")
        return (f"{head}/{repo}" if head else repo), tag or None
    return ref, None


def _ports(ctx: _Ctx, value: Any) -> None:
    for item in value if isinstance(value, list) else [value]:
        for port, proto, note in parse_port(item):
            if port is None:
                ctx.skip(f"ports[{item}]", note)
                continue
            if note:
                ctx.out.notes.append(note)
            if (port, proto) not in ctx.ports:
                ctx.ports.append((port, proto))


def _expose(ctx: _Ctx, value: Any) -> None:
    _ports(ctx, [str(v).split(":")[-1] for v in (value if isinstance(value, list) else [value])])


def parse_port(item: Any) -> list[tuple[int | None, str, str]]:
    """Container ports of one ``ports`` entry (short or long syntax), with notes."""
    if isinstance(item, dict):
        target = item.get("target")
        proto = str(item.get("protocol") or "tcp")
        if target is None:
            return [(None, proto, "long-syntax port without target")]
        return [(int(target), proto, "")]
    text = str(item)
    text, _, proto = text.partition("/")
    proto = proto or "tcp"
    container = text.rsplit(":", 1)[-1] if ":" in text else text
    published = text.rsplit(":", 1)[0] if ":" in text else ""
    note = ""
    if published and published.split(":")[-1] != container:
        note = f"host port {published} not kept: Services expose container port {container}"
    try:
        if "-" in container:
            low, high = (int(p) for p in container.split("-", 1))
            if high - low > 20:
                return [(None, proto, "port range wider than 20 ports")]
            return [(p, proto, note) for p in range(low, high + 1)]
        return [(int(container), proto, note)]
    except ValueError:
        return [(None, proto, f"unreadable port {item!r}")]


def _environment(ctx: _Ctx, value: Any) -> None:
    interpolated = env_mapping(value)
    for key, val in interpolated.items():
        raw = ctx.svc.raw_environment.get(key, val)
        ctx.add_env(key, raw, val, "environment")


def _env_file(ctx: _Ctx, value: Any) -> None:
    items = value if isinstance(value, list) else [value]
    for item in items:
        path_text = str(item.get("path")) if isinstance(item, dict) else str(item)
        required = not (isinstance(item, dict) and item.get("required") is False)
        path = ctx.svc.source.parent / path_text
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            if required:
                ctx.skip(f"env_file[{path_text}]", "file not found; add its keys by hand")
            continue
        for key, val in parse_dotenv(text).items():
            if key not in ctx.env and key not in ctx.secrets:
                ctx.add_env(key, val, val, f"env_file {path_text}")


def _volumes(ctx: _Ctx, value: Any) -> None:
    for item in value if isinstance(value, list) else [value]:
        kind, source, target = _volume_parts(item)
        label = f"volumes[{source + ':' if source else ''}{target}]"
        if kind == "volume" and source:
            if "storage" in ctx.fields:
                ctx.skip(label, "only one persistent volume per service is supported")
                continue
            ctx.fields["kind"] = "statefulset"
            ctx.fields["storage"] = DEFAULT_STORAGE
            ctx.annotate(
                "volume",
                f"{source}:{target}",
                f"volume {source} mounted at {target}: size not in compose, {DEFAULT_STORAGE} set",
            )
        elif kind == "bind":
            ctx.skip(label, "bind mount of a host path: bake it into the image or a ConfigMap")
        elif kind == "tmpfs":
            ctx.skip(label, "tmpfs: mount an emptyDir via the chart")
        else:
            ctx.skip(label, "anonymous volume: data is lost on restart; name it to persist")


def _volume_parts(item: Any) -> tuple[str, str, str]:
    if isinstance(item, dict):
        kind = str(item.get("type") or "volume")
        return kind, str(item.get("source") or ""), str(item.get("target") or "")
    parts = str(item).split(":")
    if len(parts) == 1:
        return "anonymous", "", parts[0]
    source, target = parts[0], parts[1]
    is_path = source.startswith(("/", ".", "~", "$")) or "/" in source
    return ("bind" if is_path else "volume"), source, target


def _depends_on(ctx: _Ctx, value: Any) -> None:
    deps: list[str] = []
    if isinstance(value, dict):
        for dep, opts in value.items():
            deps.append(service_name(str(dep)))
            condition = opts.get("condition") if isinstance(opts, dict) else None
            if condition and condition != "service_started":
                ctx.annotate(
                    f"depends-on.{service_name(str(dep))}",
                    str(condition),
                    f"depends_on {dep} with condition {condition} kept as annotation",
                )
    else:
        deps = [service_name(str(d)) for d in (value if isinstance(value, list) else [value])]
    ctx.fields["depends_on"] = deps


def _healthcheck(ctx: _Ctx, value: Any) -> None:
    if not isinstance(value, dict) or value.get("disable"):
        return
    test = value.get("test")
    words = [str(t) for t in test] if isinstance(test, list) else ["CMD-SHELL", str(test or "")]
    if words and words[0] == "NONE":
        return
    command = " ".join(words[1:]) if words and words[0] in ("CMD", "CMD-SHELL") else " ".join(words)
    url = _URL.search(command)
    if url and re.search(r"\b(curl|wget|http)", command):
        ctx.fields["health"] = url.group(1) or "/"
    elif command:
        ctx.annotate(
            "healthcheck", command, "exec health check kept as annotation (spec health is a path)"
        )
    for timing in ("interval", "timeout", "retries", "start_period", "start_interval"):
        if timing in value:
            ctx.annotate(
                f"healthcheck-{timing.replace('_', '-')}",
                str(value[timing]),
                f"healthcheck {timing} kept as annotation",
            )


def _restart(ctx: _Ctx, value: Any) -> None:
    policy = str(value)
    note = f"restart: {policy} kept as annotation"
    if policy in ("no", "on-failure") or policy.startswith("on-failure"):
        note += " (Deployments always restart pods; use a Job for run-once work)"
    ctx.annotate("restart", policy, note)


def _command(ctx: _Ctx, value: Any, key: str = "args") -> None:
    words = shlex.split(value) if isinstance(value, str) else [str(v) for v in value or []]
    ctx.fields[key] = words


def _entrypoint(ctx: _Ctx, value: Any) -> None:
    _command(ctx, value, "command")


def _deploy(ctx: _Ctx, value: Any) -> None:
    if not isinstance(value, dict):
        return
    for key, sub in value.items():
        if key == "replicas":
            ctx.fields["replicas"] = int(sub)
        elif key == "resources" and isinstance(sub, dict):
            _resources(ctx, sub)
        elif key == "placement" and isinstance(sub, dict):
            _placement(ctx, sub)
        elif key == "restart_policy" and isinstance(sub, dict) and "condition" in sub:
            ctx.annotate("restart", str(sub["condition"]), "deploy.restart_policy kept")
        elif key == "mode" and str(sub) == "replicated":
            continue
        elif key == "mode":
            ctx.skip("deploy.mode", f"swarm mode {sub}: use a DaemonSet via the chart")
        else:
            ctx.skip(f"deploy.{key}", "swarm-only setting; the chart's rollout settings apply")


def _resources(ctx: _Ctx, value: dict[str, Any]) -> None:
    resources: dict[str, str] = dict(ctx.fields.get("resources", {}))
    for section, suffix in (("limits", "_limit"), ("reservations", "")):
        spec = value.get(section) or {}
        for key, sub in spec.items():
            if key == "cpus":
                resources[f"cpu{suffix}"] = cpu_quantity(sub)
            elif key == "memory":
                quantity = memory_quantity(sub)
                if quantity is None:
                    ctx.skip(f"deploy.resources.{section}.memory", f"unreadable memory {sub!r}")
                else:
                    resources[f"memory{suffix}"] = quantity
            elif key == "devices" and section == "reservations":
                _devices(ctx, sub)
            else:
                ctx.skip(f"deploy.resources.{section}.{key}", "no equivalent in sophia.yaml")
    for key in value:
        if key not in ("limits", "reservations"):
            ctx.skip(f"deploy.resources.{key}", "no equivalent in sophia.yaml")
    if resources:
        ctx.fields["resources"] = resources


def _devices(ctx: _Ctx, devices: Any) -> None:
    for device in devices if isinstance(devices, list) else []:
        caps = [str(c) for c in device.get("capabilities") or []]
        if device.get("driver") == "nvidia" or "gpu" in caps:
            count = device.get("count")
            ids = device.get("device_ids") or []
            if count == "all" or count == -1:
                ctx.fields["gpu"] = 1
                ctx.out.notes.append("GPU count 'all' converted to 1: set the real count")
            elif count is not None:
                ctx.fields["gpu"] = int(count)
            else:
                ctx.fields["gpu"] = len(ids) if ids else 1
        else:
            ctx.skip("deploy.resources.reservations.devices", f"non-GPU device {device!r}")


def _placement(ctx: _Ctx, value: dict[str, Any]) -> None:
    for key, sub in value.items():
        if key != "constraints":
            ctx.skip(f"deploy.placement.{key}", "swarm placement; use nodes labels")
            continue
        for constraint in sub or []:
            match = _GPU_TYPE.match(str(constraint).strip())
            if match:
                ctx.fields["gpu_type"] = match.group(1).strip("'\"")
            else:
                ctx.skip(f"deploy.placement.constraints[{constraint}]", "swarm placement")


def _runtime(ctx: _Ctx, value: Any) -> None:
    if str(value) == "nvidia":
        ctx.fields.setdefault("gpu", 1)
        ctx.out.notes.append("runtime: nvidia converted to gpu: 1")
    else:
        ctx.skip("runtime", f"container runtime {value} not selectable")


def _gpus(ctx: _Ctx, value: Any) -> None:
    count = 1 if str(value) == "all" else int(value) if str(value).isdigit() else 1
    ctx.fields["gpu"] = count


def _compose_secrets(ctx: _Ctx, value: Any) -> None:
    for item in value if isinstance(value, list) else []:
        source = str(item.get("source")) if isinstance(item, dict) else str(item)
        name = re.sub(r"[^A-Za-z0-9_]", "_", source).upper()
        if name not in ctx.secrets:
            ctx.secrets.append(name)
        ctx.out.secrets[name] = f"compose secret {source} of {ctx.shown} service {ctx.svc.name}"


def cpu_quantity(value: Any) -> str:
    """Compose ``cpus`` (``"0.5"``, ``2``) as a Kubernetes quantity (``500m``, ``2``)."""
    number = float(value)
    if number.is_integer():
        return str(int(number))
    return f"{round(number * 1000)}m"


def memory_quantity(value: Any) -> str | None:
    """Compose memory (``4G``, ``512m``, ``1gb``, bytes) as a binary quantity (``4Gi``)."""
    if isinstance(value, int):
        return f"{max(1, value // (1024 * 1024))}Mi"
    match = _MEMORY.match(str(value).strip())
    if match is None:
        return None
    number, unit = float(match.group(1)), match.group(2).lower()
    factor = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}[unit]
    size = number * factor
    for suffix, scale in (("Ti", 1024**4), ("Gi", 1024**3), ("Mi", 1024**2), ("Ki", 1024)):
        if size >= scale and (size / scale).is_integer():
            return f"{int(size / scale)}{suffix}"
    return f"{max(1, round(size / 1024**2))}Mi"


_HANDLERS: dict[str, Any] = {
    "image": _image,
    "ports": _ports,
    "expose": _expose,
    "environment": _environment,
    "env_file": _env_file,
    "volumes": _volumes,
    "depends_on": _depends_on,
    "healthcheck": _healthcheck,
    "restart": _restart,
    "command": _command,
    "entrypoint": _entrypoint,
    "deploy": _deploy,
    "runtime": _runtime,
    "gpus": _gpus,
    "secrets": _compose_secrets,
}
