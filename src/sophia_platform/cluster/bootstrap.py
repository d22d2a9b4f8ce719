"""``cluster plan`` and ``cluster up``: one convergence loop, read-only when planning.

Order: connect to and probe every host in parallel (preflight); the server (install with the
pinned version, or write a changed config.yaml and restart); its join token straight into the
environment's secrets store; its kubeconfig merged into the user's under the environment's
context; every agent in parallel (a failing host never stops the others); then through the API:
every node Ready, labels and taints as the spec says, the nvidia RuntimeClass, the device
plugin, each GPU node's allocatable GPUs, and one smoke Job per GPU node. Each step first
looks at what is there, so a converged cluster yields no change and nothing is written.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sophia_platform.cluster import gpu, installer, k3s, kubeside
from sophia_platform.cluster.installer import AirgapBundle
from sophia_platform.cluster.inventory import ClusterNode, Inventory
from sophia_platform.cluster.preflight import Probe, check, probe
from sophia_platform.cluster.ssh import Session, SshError, Transport
from sophia_platform.config import SecretValue
from sophia_platform.errors import SophiaError
from sophia_platform.kube import merge as kcfg
from sophia_platform.spec.facts import SpecFacts

TOKEN_KEY = "K3S_TOKEN"
READY_TIMEOUT_S = 120.0
HOST_STEPS = frozenset({"install", "config", "restart"})  # the steps that (re)start K3s
STOPPED_STATES = frozenset({"inactive", "failed"})  # `systemctl is-active`: nothing runs it
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Change:
    """One thing ``up`` does (or, planning, would do)."""

    node: str
    step: str
    detail: str = ""


@dataclass
class NodeOutcome:
    """How one node fared."""

    name: str
    role: str
    address: str
    version: str | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No error."""
        return self.error is None


@dataclass
class UpResult:
    """The result of ``plan`` (dry_run) or ``up``."""

    env: str
    context: str
    dry_run: bool
    changes: list[Change] = field(default_factory=list)
    nodes: list[NodeOutcome] = field(default_factory=list)
    accepted_host_keys: list[dict[str, str]] = field(default_factory=list)
    kubeconfig: str | None = None
    seconds: float = 0.0

    @property
    def failed(self) -> list[str]:
        """Names of the nodes that failed."""
        return [n.name for n in self.nodes if not n.ok]

    @property
    def converged(self) -> bool:
        """Nothing to change and nothing failed."""
        return not self.changes and not self.failed


class Bootstrap:
    """Converge one environment's cluster towards the spec."""

    def __init__(
        self,
        spec: SpecFacts,
        inventory: Inventory,
        transport: Transport,
        *,
        kubeconfig: Path,
        airgap: AirgapBundle | None = None,
        progress: Progress | None = None,
        ready_timeout_s: float = READY_TIMEOUT_S,
    ) -> None:
        self.spec = spec
        self.inv = inventory
        self.transport = transport
        self.kubeconfig = kubeconfig
        self.airgap = airgap
        self.say = progress or (lambda _msg: None)
        self.ready_timeout_s = ready_timeout_s
        self.version = spec.cluster.k3s_version
        self.sessions: dict[str, Session] = {}
        self.probes: dict[str, Probe] = {}
        self.nodes_seen: dict[str, Any] | None = None  # the API's nodes, as the SSH phase saw
        self._api: Any = None
        self._prefetch: asyncio.Task[None] | None = None

    # -- entry point ---------------------------------------------------------------------
    def run(self, *, dry_run: bool) -> UpResult:
        """Plan (``dry_run``) or apply; never raises for one host's failure."""
        started = time.monotonic()
        result = UpResult(self.inv.env, self.inv.context, dry_run)
        result.kubeconfig = str(self.kubeconfig)
        outcomes = {
            n.name: NodeOutcome(n.name, n.role, f"{n.host}:{n.port}") for n in self.inv.nodes
        }
        result.nodes = list(outcomes.values())
        try:
            asyncio.run(self._ssh_phase(result, outcomes, dry_run))
            self._api_phase(result, outcomes, dry_run)
        finally:
            if self._api is not None:
                self._api.close()
                self._api = None
            result.accepted_host_keys = [
                {"node": n, "fingerprint": fp} for n, fp in self.transport.known_hosts.accepted
            ]
        result.seconds = time.monotonic() - started
        return result

    # -- SSH -------------------------------------------------------------------------------
    async def _ssh_phase(
        self, result: UpResult, outcomes: dict[str, NodeOutcome], dry_run: bool
    ) -> None:
        try:
            await asyncio.gather(*(self._open(n, outcomes[n.name]) for n in self.inv.nodes))
            server = self.inv.server
            if not outcomes[server.name].ok:
                for agent in self.inv.agents:
                    if outcomes[agent.name].ok:
                        outcomes[agent.name].notes.append("not joined: the server failed")
                return
            token = await self._server(server, result, outcomes[server.name], dry_run)
            registered = self.nodes_seen
            if registered is None:
                registered = self._registered()  # the server was installed just now
            await asyncio.gather(
                *(
                    self._agent(a, token, result, outcomes[a.name], dry_run, registered)
                    for a in self.inv.agents
                    if outcomes[a.name].ok
                )
            )
        finally:
            await self._prefetched()
            for session in self.sessions.values():
                session.close()

    def _start_prefetch(self) -> None:
        """Make the API connection and list its nodes while the hosts answer their probes.

        Started once the first host is connected (not before: its imports would compete with
        the handshakes), in a thread (blocking IO, mostly waiting).
        """
        if self._prefetch is None:
            self._prefetch = asyncio.create_task(asyncio.to_thread(self._prefetch_nodes))

    async def _prefetched(self) -> None:
        """Wait for the prefetch, if one runs (before anything reads what it sets)."""
        if self._prefetch is not None:
            await self._prefetch

    def _prefetch_nodes(self) -> None:
        """Connect to the API and list its nodes ahead of need (a failure: asked again later)."""
        try:
            self._registered()
        except SophiaError:
            self._drop_api()

    def _drop_api(self) -> None:
        """Forget the API connection and what it listed (the kubeconfig changed under it)."""
        if self._api is not None:
            self._api.close()
        self._api, self.nodes_seen = None, None

    async def _open(self, node: ClusterNode, outcome: NodeOutcome) -> None:
        try:
            session = await self.transport.connect(node)
            self.sessions[node.name] = session
            self._start_prefetch()
            p = await probe(session)
        except SophiaError as e:
            outcome.error = str(e)
            self.say(str(e))
            return
        self.probes[node.name] = p
        outcome.version = p.version
        pre = check(node.name, node.is_server, node.gpu_count, node.privilege, p)
        if not pre.ok:
            outcome.error = "preflight: " + "; ".join(pre.problems)
            self.say(f"{node.name}: {outcome.error}")
        else:
            self.say(f"{node.name}: preflight ok ({p.facts.get('os') or 'Linux'})")

    async def _converge_node(
        self,
        node: ClusterNode,
        desired: dict[str, Any],
        result: UpResult,
        outcome: NodeOutcome,
        dry_run: bool,
        registered: dict[str, Any] | None = None,
    ) -> bool:
        """Install, re-configure or restart ``node`` as needed; True if it ran anything."""
        session, p = self.sessions[node.name], self.probes[node.name]
        live = k3s.parse(p.config_text)
        changed_keys = k3s.config_diff(live, desired)
        if p.version is None:
            mode = "air-gapped, from " + str(self.airgap) if self.airgap else "get.k3s.io"
            result.changes.append(
                Change(node.name, "install", f"k3s {self.version} as {node.role} ({mode})")
            )
            if dry_run:
                return False
            self.say(f"{node.name}: installing k3s {self.version}")
            await session.write_file(k3s.CONFIG_PATH, k3s.render(desired))
            await installer.install(session, node, self.version, airgap=self.airgap, say=self.say)
            outcome.version = self.version
            return True
        if p.version != self.version:
            outcome.notes.append(
                f"runs {p.version}, the spec pins {self.version}: "
                f"`sophia cluster upgrade {self.inv.env} --to {self.version}`"
            )
        if changed_keys:
            result.changes.append(
                Change(node.name, "config", f"{k3s.CONFIG_PATH}: {', '.join(changed_keys)}")
            )
            if dry_run:
                return False
            self.say(f"{node.name}: config changed ({', '.join(changed_keys)}), restarting")
            await session.write_file(k3s.CONFIG_PATH, k3s.render(desired))
            await self._restart(node, result, dry_run, None)
            return True
        why = self._why_restart(node, registered)
        return why is not None and await self._restart(node, result, dry_run, why)

    def _why_restart(self, node: ClusterNode, registered: dict[str, Any] | None) -> str | None:
        """Why an installed, configured node's K3s must be started again (None: it need not).

        Its unit stopped or failed (``systemctl is-active`` in the probe): nothing else will
        start it — and on the server, whose K3s serves the API, there is no API to ask. Not
        in the cluster: its join was cut off (host down mid-join) or its start failed. A
        running unit whose node is NotReady is left alone: systemd restarts a crashing K3s
        by itself, so the cause is elsewhere.
        """
        state = self.probes[node.name].unit_state
        if state in STOPPED_STATES:
            return f"{k3s.service(node)} is {state}"
        if registered is not None and node.name not in registered:
            return "installed but not registered"
        return None

    async def _restart(
        self, node: ClusterNode, result: UpResult, dry_run: bool, why: str | None
    ) -> bool:
        """Restart the node's K3s unit (``why``: record it as a change of its own)."""
        unit = k3s.service(node)
        if why is not None:
            result.changes.append(Change(node.name, "restart", f"{why}: restart {unit}"))
            if dry_run:
                return False
            self.say(f"{node.name}: {why}, restarting {unit}")
        await self.sessions[node.name].run(
            ["systemctl", "restart", unit],
            privileged=True,
            timeout=installer.INSTALL_TIMEOUT_S,
            what=f"restart {unit}",
        )
        return True

    async def _server(
        self,
        server: ClusterNode,
        result: UpResult,
        outcome: NodeOutcome,
        dry_run: bool,
    ) -> SecretValue | None:
        desired = k3s.desired_config(server, self.inv, self.spec.cluster, None)
        try:
            acted = await self._converge_node(server, desired, result, outcome, dry_run)
            p = self.probes[server.name]
            if p.version is None and dry_run:
                return self._stored_token()
            if not acted and (p.token is None or p.kubeconfig is None):
                # Installed with the right config, but its first start was cut off before
                # it wrote its join token and k3s.yaml: start it again.
                why = "installed but never started"
                acted = await self._restart(server, result, dry_run, why)
                if dry_run:
                    return self._stored_token()
            if acted or p.token is None:
                # Installed or restarted just now (or no token yet): read what it wrote.
                session = self.sessions[server.name]
                token, kube_text = await asyncio.gather(
                    session.read_secret(k3s.TOKEN_PATH), session.read_file(k3s.KUBECONFIG_PATH)
                )
            else:
                token, kube_text = p.token, p.kubeconfig  # the probe read both
            if not _same(self._stored_token(), token):
                result.changes.append(
                    Change(server.name, "token", f"join token into the {self.inv.env} store")
                )
                if not dry_run:
                    self._store_token(token)
            await self._prefetched()
            if self._kubeconfig(server.name, kube_text, result, dry_run):
                self._drop_api()  # made from the kubeconfig as it was
            # Token and k3s.yaml there, the node not (the start was cut off before it
            # registered), or its unit stopped: start it again.
            reason = None
            if not acted:
                live = self.nodes_seen if self.nodes_seen is not None else self._registered()
                reason = self._why_restart(server, live)
            if reason is not None:
                await self._restart(server, result, dry_run, reason)
            return token
        except SophiaError as e:
            outcome.error = str(e)
            self.say(str(e))
            return None

    async def _agent(
        self,
        agent: ClusterNode,
        token: SecretValue | None,
        result: UpResult,
        outcome: NodeOutcome,
        dry_run: bool,
        registered: dict[str, Any] | None,
    ) -> None:
        if token is None and not dry_run:
            outcome.error = "no join token (the server step failed)"
            return
        desired = k3s.desired_config(agent, self.inv, self.spec.cluster, token)
        try:
            await self._converge_node(agent, desired, result, outcome, dry_run, registered)
        except SophiaError as e:
            outcome.error = str(e)
            self.say(str(e))

    def _kubeconfig(self, server: str, text: str | None, result: UpResult, dry_run: bool) -> bool:
        """Merge the server's k3s.yaml into the user's kubeconfig; True if that changes it."""
        if text is None:
            raise SshError(server, f"{k3s.KUBECONFIG_PATH} missing after install")
        source = kcfg.load(text, k3s.KUBECONFIG_PATH)
        for entry in source.get("clusters") or []:
            url = entry.get("cluster", {}).get("server")
            if url:
                entry["cluster"]["server"] = kcfg.with_server_host(url, self.inv.server.host)
        merged = kcfg.merge_into(self.kubeconfig, source, self.inv.context, dry_run=dry_run)
        if merged.changed:
            result.changes.append(
                Change(
                    server,
                    "kubeconfig",
                    f"context {self.inv.context} in {self.kubeconfig}",
                )
            )
        return merged.changed

    def _connect(self) -> Any:
        """The API connection of the environment's context (None: no such context yet)."""
        from sophia_platform.kube.client import connect, contexts

        if self._api is None and self.inv.context in contexts(self.kubeconfig):
            self._api = connect(self.kubeconfig, self.inv.context)
        return self._api

    def _registered(self) -> dict[str, Any] | None:
        """The nodes the API server knows, by name (None: no context to ask yet)."""
        api = self._connect()
        if api is None:
            return None
        try:
            self.nodes_seen = kubeside.list_nodes(api)
            return self.nodes_seen
        except SophiaError:
            return None  # the API phase reports an unreachable server

    # -- the secrets store -----------------------------------------------------------------
    def _store(self) -> Any:
        from sophia_platform.secrets.providers.local import LocalStore

        return LocalStore.of(self.inv.spec_dir, self.inv.env, os.environ)

    def _stored_token(self) -> SecretValue | None:
        value: SecretValue | None = self._store().load().get(TOKEN_KEY)
        return value

    def _store_token(self, token: SecretValue) -> None:
        self._store().set_value(TOKEN_KEY, token)

    # -- the API ---------------------------------------------------------------------------
    def _api_phase(self, result: UpResult, outcomes: dict[str, NodeOutcome], dry_run: bool) -> None:
        api = self._connect()
        if api is None:
            if dry_run:
                return  # nothing registered yet: the install steps above say it all
            for o in outcomes.values():
                if o.ok:
                    o.error = f"kube context {self.inv.context} missing"
            return
        ApiPhase(self, api, result, outcomes, dry_run).run()


class ApiPhase:
    """The steps after SSH, all through the API server."""

    def __init__(
        self,
        boot: Bootstrap,
        api: Any,
        result: UpResult,
        outcomes: dict[str, NodeOutcome],
        dry_run: bool,
    ) -> None:
        self.boot, self.api, self.result, self.outcomes = boot, api, result, outcomes
        self.dry_run = dry_run
        self.healthy = [n for n in boot.inv.nodes if outcomes[n.name].ok]

    def _fail(self, node: str, message: str) -> None:
        self.outcomes[node].error = message
        self.healthy = [n for n in self.healthy if n.name != node]

    def run(self) -> None:
        """Ready, labels, GPU objects, allocatable, smoke."""
        nodes = self._wait_ready()
        for node in self.healthy:
            if node.name not in nodes:
                continue
            if self.dry_run:
                d = kubeside.drift(node, nodes[node.name])
            else:
                d = kubeside.sync_labels(self.api, node, nodes[node.name])
            if not d.empty:
                self.result.changes.append(Change(node.name, "labels", d.describe()))
        gpu_nodes = [n for n in self.boot.inv.nodes if n.gpu_count]
        docs = [gpu.runtime_class()]
        if gpu_nodes:
            docs.append(gpu.device_plugin(gpu_nodes))
        for doc in docs:
            applied = gpu.apply(self.api, doc, dry_run=self.dry_run)
            if applied.changed:
                self.result.changes.append(
                    Change("cluster", "apply", f"{doc['kind']}/{applied.name}")
                )
        ready_gpu = [n for n in self.healthy if n.gpu_count and n.name in nodes]
        if self.dry_run:
            self._plan_smoke(ready_gpu)
            return
        self._wait_gpus(ready_gpu, nodes)
        self._smoke([n for n in ready_gpu if n in self.healthy])

    def _wait_ready(self) -> dict[str, Any]:
        wanted = {n.name for n in self.healthy}
        # The list the SSH phase read still holds unless a host was (re)started since.
        started = {c.node for c in self.result.changes if c.step in HOST_STEPS}
        seen = self.boot.nodes_seen if self.dry_run or not started else None
        if self.dry_run:
            nodes = seen if seen is not None else kubeside.list_nodes(self.api)
            for name in sorted(wanted - set(nodes)):
                self.result.changes.append(Change(name, "register", "node joins the cluster"))
            return nodes
        self.boot.say(f"waiting for {len(wanted)} node(s) to be Ready")
        deadline = time.monotonic() + self.boot.ready_timeout_s
        while True:
            nodes = seen if seen is not None else kubeside.list_nodes(self.api)
            seen = None
            missing = {n for n in wanted if n not in nodes or not kubeside.is_ready(nodes[n])}
            if not missing:
                return nodes
            if time.monotonic() > deadline:
                for name in sorted(missing):
                    self._fail(name, f"not Ready after {self.boot.ready_timeout_s:.0f}s")
                return nodes
            time.sleep(kubeside.POLL_S)

    def _wait_gpus(self, nodes: list[ClusterNode], live: dict[str, Any]) -> None:
        # `live`: the nodes as last listed (the label patches since leave allocatable alone).
        if not nodes:
            return
        self.boot.say("waiting for allocatable nvidia.com/gpu on the GPU nodes")
        deadline = time.monotonic() + self.boot.ready_timeout_s
        while True:
            short = [n for n in nodes if kubeside.allocatable_gpus(live[n.name]) != n.gpu_count]
            if not short:
                return
            if time.monotonic() > deadline:
                for n in short:
                    got = kubeside.allocatable_gpus(live[n.name])
                    self._fail(n.name, f"allocatable nvidia.com/gpu is {got}, spec {n.gpu_count}")
                return
            time.sleep(kubeside.POLL_S)
            live = kubeside.list_nodes(self.api)

    def _plan_smoke(self, nodes: list[ClusterNode]) -> None:
        if not nodes:
            return
        image, live = self.boot.spec.cluster.smoke_image, gpu.smoke_jobs(self.api)
        for node in nodes:
            job = live.get(node.name)
            if (
                gpu.stale(job, gpu.smoke_job(node, image))
                or gpu.smoke_state(node.name, job).state != "passed"
            ):
                self.result.changes.append(Change(node.name, "smoke", "run the GPU smoke Job"))

    def _smoke(self, nodes: list[ClusterNode]) -> None:
        if not nodes:
            return
        image, live = self.boot.spec.cluster.smoke_image, gpu.smoke_jobs(self.api)
        started = []
        for node in nodes:
            job = gpu.smoke_job(node, image)
            failed = gpu.smoke_state(node.name, live.get(node.name)).state == "failed"
            if gpu.stale(live.get(node.name), job) or failed:
                if failed:
                    gpu.delete_job(self.api, job)  # a failed run is run again
                gpu.apply(self.api, job)
                started.append(node)
                self.result.changes.append(Change(node.name, "smoke", "GPU smoke Job started"))
        if not started:
            return
        self.boot.say(f"GPU smoke Jobs on {', '.join(n.name for n in started)}")
        deadline = time.monotonic() + self.boot.ready_timeout_s
        pending = list(started)
        while pending:
            still = []
            live = gpu.smoke_jobs(self.api)
            for node in pending:
                r = gpu.smoke_state(node.name, live.get(node.name))
                if r.state == "failed":
                    self._fail(node.name, f"GPU smoke Job failed: {r.detail}")
                elif r.state != "passed":
                    still.append(node)
            pending = still
            if pending and time.monotonic() > deadline:
                for node in pending:
                    self._fail(node.name, "GPU smoke Job did not finish")
                return
            if pending:
                time.sleep(kubeside.POLL_S)


def _same(a: SecretValue | None, b: SecretValue | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.reveal() == b.reveal()
