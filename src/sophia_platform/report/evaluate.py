"""The plan's numbers from the sources: success metrics, Definition of Done, checklists, progress.

Every row states its proxy (how it is measured) and its evidence, and every row that needs a
source that could not be read is ``unknown`` with that reason. The measures are documented
in the README ("The migration report").
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from typing import Any

from sophia_platform.audit import Finding
from sophia_platform.audit.rules import all_rules
from sophia_platform.report.manual import is_workflow
from sophia_platform.report.model import Check, Evidence, Metric, Progress, Status
from sophia_platform.report.sources import Sources

DEPLOY_TARGET_S = 180.0
MAX_EVIDENCE = 12
_DEPLOY_RECORDS = 10  # deployment time: median of the last successful deploys
_DOC_SUFFIXES = (".md", ".rst", ".txt", ".adoc")
# Documentation-health rules of the audit, by what the daily checklist asks (absent rules
# make their line unknown until the audit has them).
# The audit's documentation-health rules are found by id: `docs-…` naming what they check.
DOC_SECRET_NAMES = "secret"
DOC_RETIRED = "retired"
DOC_CONFLICT = "conflict"


def docs_rules(topic: str) -> tuple[str, ...]:
    """Ids of the audit's ``docs-*`` rules about ``topic`` in this build."""
    return tuple(r for r in all_rules() if r.startswith("docs-") and topic in r)


def _findings(src: Sources, *rules: str) -> list[Finding]:
    return [f for f in src.audit.findings if f.rule_id in rules]


def _evidence(findings: Iterable[Finding]) -> list[Evidence]:
    rows = [
        Evidence(source="audit", detail=f"{f.rule_id}: {f.message}", location=f"{f.path}:{f.line}")
        for f in findings
    ]
    if len(rows) > MAX_EVIDENCE:
        more = len(rows) - MAX_EVIDENCE
        rows = [*rows[:MAX_EVIDENCE], Evidence(source="audit", detail=f"… and {more} more")]
    return rows


def _status(value: float | None, target: float) -> Status:
    if value is None:
        return "unknown"
    return "pass" if value <= target else "fail"


def _unknown(src: Sources, name: str) -> str:
    return f"unknown ({src.reason(name)})"


def _env(src: Sources) -> str:
    return src.env or "ENV"


# --- success metrics ---------------------------------------------------------------------


def metrics(src: Sources) -> list[Metric]:
    """The success-metrics table of the plan."""
    return [
        _deployment_methods(src),
        _secret_sync(src),
        _hardcoded_ips(src),
        _deployment_time(src),
        _manual_steps(src),
    ]


def deploy_methods(src: Sources) -> list[str]:
    """Deploy methods in the repository; a valid sophia.yaml is the Helm-on-K3s one."""
    methods = set(src.audit.metrics.deployment_methods)
    if src.spec is not None:
        methods.add("kubernetes")
    return sorted(methods)


def _deployment_methods(src: Sources) -> Metric:
    methods = deploy_methods(src)
    evidence = [
        Evidence(source="audit", detail=f"deploy method in the repository: {m}") for m in methods
    ]
    evidence += _evidence(
        _findings(src, "compose-file", "swarm-reference", "redundant-deploy-path")
    )
    return Metric(
        id="deployment-methods",
        title="Deployment methods",
        baseline="3",
        target=1,
        value=len(methods),
        status="pass" if len(methods) <= 1 else "fail",
        proxy="distinct deploy methods the audit finds in scripts, workflows and compose/stack "
        "files (docker-compose, docker-swarm, kubernetes), plus kubernetes when a valid "
        "sophia.yaml exists (sophia deploy is Helm on K3s); Swarm named only in docs is history",
        evidence=evidence,
        fix="sophia cleanup plan && sophia cleanup apply",
    )


def _secret_sync(src: Sources) -> Metric:
    count = src.audit.metrics.secret_sync_workflows
    return Metric(
        id="secret-sync-workflows",
        title="Secret sync workflows",
        baseline="3",
        target=1,
        value=count,
        status="pass" if count == 1 else "fail",
        reason="" if count else "no GitHub → ESC sync workflow in the repository",
        proxy="workflows and scripts that read GitHub secrets and write Pulumi ESC "
        "(the audit's secret-sync group); the target is exactly one",
        evidence=_evidence(_findings(src, "redundant-workflow")),
        fix="sophia secrets workflow && sophia cleanup apply",
    )


def _hardcoded_ips(src: Sources) -> Metric:
    hits = _findings(src, "hardcoded-ip")
    return Metric(
        id="hardcoded-ips",
        title="Hardcoded IPs",
        baseline="50+",
        target=0,
        value=len(hits),
        status=_status(len(hits), 0),
        proxy="unsuppressed hardcoded-ip findings (each place an address is written; "
        f"{src.audit.metrics.distinct_ips} distinct addresses)",
        evidence=_evidence(hits),
        fix="sophia cleanup apply",
    )


def _deployment_time(src: Sources) -> Metric:
    proxy = (
        f"median duration of the last {_DEPLOY_RECORDS} successful deploys in the cluster's "
        "deploy records (sophia deploy: start to all services ready; GitOps: push to all "
        "services ready on the pushed commit)"
    )
    base: dict[str, Any] = {
        "id": "deployment-time",
        "title": "Deployment time",
        "baseline": "15 min",
        "target": DEPLOY_TARGET_S,
        "unit": "s",
        "proxy": proxy,
        "fix": f"sophia deploy {_env(src)}",
    }
    if src.cluster is None:
        return Metric(**base, value=None, status="unknown", reason=_unknown(src, "cluster"))
    done = [
        r
        for r in src.cluster.records
        # A helm deploy's time, or a GitOps deploy's push-to-ready time: one source for both.
        if r.action in {"deploy", "gitops"}
        and r.outcome == "succeeded"
        and r.duration_s is not None
    ][-_DEPLOY_RECORDS:]
    if not done:
        reason = "unknown (no successful deploy recorded yet)"
        return Metric(**base, value=None, status="unknown", reason=reason)
    value = round(statistics.median(r.duration_s or 0.0 for r in done), 1)
    evidence = [
        Evidence(
            source="records", detail=f"revision {r.revision}: {r.duration_s:.1f} s ({r.started_at})"
        )
        for r in done
    ]
    return Metric(**base, value=value, status=_status(value, DEPLOY_TARGET_S), evidence=evidence)


def manual_parts(src: Sources) -> tuple[int, int, int | None]:
    """(documented manual commands, dispatch-only deploy workflows, hand-set Secrets or None)."""
    commands = sum(len(f.commands) for f in src.manual.values())
    dispatch = sum(int(f.dispatch_only_deploy) for f in src.manual.values())
    by_hand = len(src.cluster.unmanaged_secrets) if src.cluster is not None else None
    return commands, dispatch, by_hand


def _manual_steps(src: Sources) -> Metric:
    commands, dispatch, by_hand = manual_parts(src)
    evidence: list[Evidence] = []
    for path, facts in sorted(src.manual.items()):
        evidence += [
            Evidence(source="audit", detail=f"manual command: {cmd}", location=f"{path}:{line}")
            for line, cmd in facts.commands
        ]
        if facts.dispatch_only_deploy:
            evidence.append(
                Evidence(source="audit", detail="deploy workflow runs only by hand", location=path)
            )
    if src.cluster is not None:
        evidence += [
            Evidence(source="cluster", detail=f"Secret {name} was not written by the secret flow")
            for name in src.cluster.unmanaged_secrets
        ]
    repo = commands + dispatch
    value: float | None = None if by_hand is None else repo + by_hand
    status: Status = "unknown"
    reason = ""
    if by_hand is None:
        # The repository part alone can already fail the target.
        status = "fail" if repo else "unknown"
        reason = f"{repo} in the repository; cluster part {_unknown(src, 'cluster')}"
    else:
        status = _status(value, 0)
    return Metric(
        id="manual-steps",
        title="Manual steps",
        baseline="many",
        target=0,
        value=value if by_hand is not None else (repo or None),
        status=status,
        reason=reason,
        proxy="documented manual commands (ssh, kubectl/helm by hand, swarm/compose deploys, "
        "pulumi/esc/gh secret set in docs) + deploy workflows that only run by hand "
        "(workflow_dispatch only) + Secrets in the namespace not written by the secret flow",
        evidence=evidence[:MAX_EVIDENCE],
        fix=f"sophia cleanup apply && sophia secrets sync {_env(src)} --from esc --to kubernetes",
    )


# --- Definition of Done --------------------------------------------------------------------


def dod(src: Sources, table: list[Metric]) -> list[Check]:
    """The plan's Definition of Done, item by item."""
    by_id = {m.id: m for m in table}
    return [
        _push_main_only(src, by_id["deployment-methods"]),
        _secrets_flow(src),
        _zero_manual(by_id["manual-steps"]),
        _zero(src, "dod-zero-duplicates", "Zero duplicate files", ("duplicate-file",)),
        _zero(
            src,
            "dod-zero-hardcoded",
            "Zero hardcoded values",
            ("hardcoded-ip", "placeholder-secret", "committed-secret"),
        ),
    ]


def _push_main_only(src: Sources, methods: Metric) -> Check:
    base: dict[str, Any] = {
        "id": "dod-push-main",
        "group": "dod",
        "title": "git push main is the only deployment method",
        "fix": f"sophia cleanup apply && sophia gitops init --engine flux {_env(src)}",
    }
    evidence = list(methods.evidence)
    dispatch = [p for p, f in src.manual.items() if f.dispatch_only_deploy]
    evidence += [
        Evidence(source="audit", detail="deploys only by hand", location=p) for p in dispatch
    ]
    others = [m for m in deploy_methods(src) if m != "kubernetes"]
    if others or dispatch:
        what = ", ".join(others) or "a workflow that runs only by hand"
        return Check(
            **base, status="fail", reason=f"other deploy paths remain: {what}", evidence=evidence
        )
    if src.gitops is None:
        gitops = _unknown(src, "gitops")
        reason = f"the repository has one deploy path; whether a push deploys is {gitops}"
        return Check(**base, status="unknown", reason=reason, evidence=evidence)
    evidence.append(Evidence(source="gitops", detail=src.gitops.summary))
    if not src.gitops.managed:
        reason = f"{_env(src)} is not GitOps-managed: a push deploys nothing"
        return Check(**base, status="fail", reason=reason, evidence=evidence)
    if src.gitops.suspended:
        reason = "GitOps is suspended (a break-glass deploy bypasses git)"
        return Check(**base, status="fail", reason=reason, evidence=evidence)
    if src.gitops.ok is None:
        reason = f"GitOps-managed, but {_unknown(src, 'gitops')}"
        return Check(**base, status="unknown", reason=reason, evidence=evidence)
    if src.gitops.ok:
        reason = "GitOps applied the branch head and every service is ready"
        return Check(**base, status="pass", reason=reason, evidence=evidence)
    reason = f"GitOps-managed but not converged: {src.gitops.summary}"
    return Check(**base, status="fail", reason=reason, evidence=evidence)


def _secrets_flow(src: Sources) -> Check:
    base: dict[str, Any] = {
        "id": "dod-secrets-flow",
        "group": "dod",
        "title": "All secrets flow GitHub → Pulumi → app automatically",
        "fix": f"sophia secrets workflow && sophia secrets check {_env(src)}",
    }
    problems: list[str] = []
    count = src.audit.metrics.secret_sync_workflows
    if count != 1:
        problems.append(f"{count} secret sync workflows (want exactly 1)")
    bad = _findings(src, "placeholder-secret", "committed-secret")
    if bad:
        problems.append(f"{len(bad)} placeholder or committed secrets")
    evidence = _evidence([*_findings(src, "redundant-workflow"), *bad])
    if src.secrets is not None:
        evidence += _secret_rows(src)
        if not src.secrets.healthy:
            broken = [r.name for r in src.secrets.rows if r.required and not r.healthy]
            problems.append(f"{len(broken)} required secrets not healthy in every layer")
    if problems:
        return Check(**base, status="fail", reason="; ".join(problems), evidence=evidence)
    if src.secrets is None:
        reason = f"one sync workflow; the layers are {_unknown(src, 'secrets')}"
        return Check(**base, status="unknown", reason=reason, evidence=evidence)
    return Check(
        **base, status="pass", reason="one sync workflow, every layer in sync", evidence=evidence
    )


def _secret_rows(src: Sources) -> list[Evidence]:
    assert src.secrets is not None
    rows = [
        Evidence(
            source="secrets",
            detail=f"{r.name}: "
            + ", ".join(f"{k} {v}" for k, v in r.layers.items())
            + (" (stale)" if r.stale else ""),
        )
        for r in src.secrets.rows
        if not r.healthy
    ]
    return rows[:MAX_EVIDENCE]


def _line(
    group: str,
    check_id: str,
    title: str,
    status: Status | bool,
    reason: str,
    fix: str = "",
    evidence: list[Evidence] | None = None,
) -> Check:
    """One Definition-of-Done item or checklist line; a bool status is pass (True) / fail."""
    if isinstance(status, bool):
        status = "pass" if status else "fail"
    return Check(
        id=check_id,
        group=group,
        title=title,
        status=status,
        reason=reason,
        evidence=evidence or [],
        fix=fix,
    )


def _zero_manual(manual: Metric) -> Check:
    reason = manual.reason
    if not reason and manual.value is not None:
        reason = f"{manual.value:g} manual steps"
    title = "Zero manual steps"
    return _line(
        "dod", "dod-zero-manual", title, manual.status, reason, manual.fix, manual.evidence
    )


def _zero(src: Sources, check_id: str, title: str, rules: tuple[str, ...]) -> Check:
    hits = _findings(src, *rules)
    counts = Counter(f.rule_id for f in hits)
    reason = ", ".join(f"{n} {rule}" for rule, n in counts.items()) or "none found"
    fix = "sophia cleanup plan && sophia cleanup apply"
    return _line("dod", check_id, title, not hits, reason, fix, _evidence(hits))


# --- daily checklists ----------------------------------------------------------------------


def checklists(src: Sources) -> list[Check]:
    """The plan's daily checklists: secret management, deployment, documentation health."""
    return [*_secret_health(src), *_deploy_health(src), *_docs_health(src)]


def _rule_check(
    src: Sources, check_id: str, group: str, title: str, rules: tuple[str, ...], fix: str
) -> Check:
    known = [r for r in rules if r in all_rules()]
    if not known:
        reason = "unknown (this build's audit has no rule for it)"
        return _line(group, check_id, title, "unknown", reason, fix)
    hits = _findings(src, *known)
    reason = f"{len(hits)} finding(s) of {', '.join(known)}" if hits else "none found"
    return _line(group, check_id, title, not hits, reason, fix, _evidence(hits))


def _secret_health(src: Sources) -> list[Check]:
    group = "secret-health"
    env = _env(src)
    title = "Every secret present and in sync in every layer"
    if src.secrets is None:
        fix = f"sophia secrets check {env}"
        layers = _line(group, "secrets-layers", title, "unknown", _unknown(src, "secrets"), fix)
    else:
        ok = src.secrets.healthy
        broken = src.secrets.broken_services
        reason = (
            f"{len(src.secrets.rows)} secrets across {', '.join(src.secrets.layers)}"
            if ok
            else f"services that would break: {', '.join(broken) or 'none'}"
        )
        fix = f"sophia secrets sync {env} --from esc --to kubernetes"
        layers = _line(group, "secrets-layers", title, ok, reason, fix, _secret_rows(src))
    count = src.audit.metrics.secret_sync_workflows
    one = _line(
        group,
        "secrets-one-workflow",
        "Exactly one secret sync workflow",
        count == 1,
        f"{count} found",
        "sophia secrets workflow && sophia cleanup apply",
        _evidence(_findings(src, "redundant-workflow")),
    )
    return [
        layers,
        one,
        _rule_check(src, "secrets-no-placeholders", group, "No placeholder secrets",
                    ("placeholder-secret",), f"sophia secrets set NAME {env}"),
        _rule_check(src, "secrets-none-committed", group, "No secrets committed to git",
                    ("committed-secret",), "rotate the secret, then sophia cleanup apply"),
    ]  # fmt: skip


def _deploy_health(src: Sources) -> list[Check]:
    group = "deployment-health"
    env = _env(src)
    methods = deploy_methods(src)
    one = _line(
        group,
        "deploy-one-method",
        "One deployment method in the repository",
        len(methods) <= 1,
        ", ".join(methods) or "none found",
        "sophia cleanup apply",
    )
    if src.cluster is None:
        reason = _unknown(src, "cluster")
        rows = [
            ("deploy-services-healthy", "Every service healthy", f"sophia status {env}"),
            ("deploy-no-drift", "Live objects match the release", f"sophia diff {env}"),
            ("deploy-last-ok", "The last deploy succeeded", f"sophia history {env}"),
        ]
        return [one] + [_line(group, i, t, "unknown", reason, fix) for i, t, fix in rows]
    status = src.cluster.status
    sick = [s for s in status.services if not s.healthy]
    sick_rows = [
        Evidence(
            source="cluster", detail=f"{s.name}: {s.problem or 'not ready'} ({s.ready}/{s.desired})"
        )
        for s in sick
    ]
    healthy = _line(
        group,
        "deploy-services-healthy",
        "Every service healthy",
        status.healthy,
        f"{len(status.services) - len(sick)}/{len(status.services)} services healthy",
        f"sophia deploy {env}",
        sick_rows[:MAX_EVIDENCE],
    )
    differences = status.helm.drift if status.helm else []
    drift = _line(
        group,
        "deploy-no-drift",
        "Live objects match the release",
        not status.drifted,
        f"{len(differences)} difference(s)" if status.helm and status.drifted else "no drift",
        f"sophia deploy {env}",
        [Evidence(source="cluster", detail=d) for d in differences][:MAX_EVIDENCE],
    )
    recs = src.cluster.records
    last = recs[-1] if recs else None
    title = "The last deploy succeeded"
    if last is None:
        reason = "unknown (no deploy recorded yet)"
        last_ok = _line(group, "deploy-last-ok", title, "unknown", reason, f"sophia deploy {env}")
    else:
        good = last.outcome in {"succeeded", "recovered"}
        detail = f"{last.started_at} by {last.user}: {last.message or last.outcome}"
        last_ok = _line(
            group,
            "deploy-last-ok",
            title,
            good,
            f"revision {last.revision} {last.action}: {last.outcome}",
            f"sophia rollback {env}" if not good else f"sophia history {env}",
            [Evidence(source="records", detail=detail)],
        )
    return [one, healthy, drift, last_ok]


def _docs_health(src: Sources) -> list[Check]:
    group = "documentation-health"
    retired = [
        f
        for f in _findings(src, "swarm-reference", "compose-file", *docs_rules(DOC_RETIRED))
        if f.path.lower().endswith(_DOC_SUFFIXES)
    ]
    kube_only = _line(
        group,
        "docs-kubernetes-only",
        "Deployment guide points to Kubernetes only",
        not retired,
        f"{len(retired)} place(s) in docs name a retired deploy method"
        if retired
        else "none found",
        "sophia cleanup apply",
        _evidence(retired),
    )
    return [
        _docs_check(src, "docs-secret-names", "All docs reference correct secret names",
                    DOC_SECRET_NAMES),
        kube_only,
        _docs_check(src, "docs-no-conflicts", "No conflicting instructions", DOC_CONFLICT),
    ]  # fmt: skip


def _docs_check(src: Sources, check_id: str, title: str, topic: str) -> Check:
    rules = docs_rules(topic)
    fix = f"sophia audit --rules {','.join(rules)}" if rules else "sophia audit"
    return _rule_check(src, check_id, "documentation-health", title, rules, fix)


# --- progress counters ---------------------------------------------------------------------


def progress(src: Sources, gates: list[Check]) -> list[Progress]:
    """The plan's progress counters, computed."""
    return [_services(src), _workflows(src), _docs(src), _gates(gates)]


def legacy_services(src: Sources) -> set[str]:
    """Service names found in compose and Swarm stack files the audit still sees."""
    names: set[str] = set()
    for f in _findings(src, "compose-file"):
        names.update(n for n in f.data.get("services", "").split(",") if n)
    return names


def _services(src: Sources) -> Progress:
    definition = (
        "spec services healthy in the cluster / every service of sophia.yaml and of the "
        "legacy compose and Swarm files"
    )
    legacy = legacy_services(src)
    spec_names = set(src.spec.services) if src.spec is not None else set()
    total = len(spec_names | legacy)
    base: dict[str, Any] = {
        "id": "services-migrated",
        "title": "Services migrated",
        "definition": definition,
    }
    if src.spec is None:
        return Progress(
            **base, done=None, total=total or None, status="unknown", reason=_unknown(src, "spec")
        )
    if src.cluster is None:
        return Progress(
            **base, done=None, total=total, status="unknown", reason=_unknown(src, "cluster")
        )
    healthy = {s.name for s in src.cluster.status.services if s.healthy} & spec_names
    return Progress(
        **base,
        done=len(healthy),
        total=total,
        status="pass" if len(healthy) == total else "fail",
        reason=", ".join(sorted((spec_names | legacy) - healthy)[:MAX_EVIDENCE]),
    )


def _workflows(src: Sources) -> Progress:
    workflows = [s for s in _listed(src) if is_workflow(s)]
    flagged = {f.path for f in src.audit.findings} | {p for p, f in src.manual.items() if f.count}
    done = [w for w in workflows if w not in flagged]
    return Progress(
        id="workflows-unified",
        title="Workflows unified",
        done=len(done),
        total=len(workflows),
        status="pass"
        if workflows and len(done) == len(workflows)
        else ("unknown" if not workflows else "fail"),
        reason="" if workflows else "unknown (no workflows in .github/workflows)",
        definition="GitHub workflows with no audit finding (not redundant, no address, no Swarm "
        "or compose deploy) and not deploy-by-hand-only / all workflows",
    )


def _docs(src: Sources) -> Progress:
    docs = [p for p in _listed(src) if p.lower().endswith(_DOC_SUFFIXES) and _topical(src, p)]
    flagged = {f.path for f in src.audit.findings} | set(src.manual)
    done = [d for d in docs if d not in flagged]
    return Progress(
        id="docs-updated",
        title="Documentation updated",
        done=len(done),
        total=len(docs),
        status="pass" if len(done) == len(docs) else "fail",
        definition="docs about deploying or secrets with no audit finding (docs-health, "
        "addresses, retired methods) and no manual command / all such docs",
    )


def _gates(gates: list[Check]) -> Progress:
    known = [g for g in gates if g.status != "unknown"]
    passing = [g for g in known if g.status == "pass"]
    unknown = len(gates) - len(known)
    return Progress(
        id="quality-gates",
        title="Quality gates passing",
        done=len(passing),
        total=len(gates),
        status="pass"
        if len(passing) == len(gates)
        else ("unknown" if unknown and len(passing) == len(known) else "fail"),
        reason=f"{unknown} gate(s) unknown" if unknown else "",
        definition="the Definition-of-Done items and daily-checklist lines of this report that "
        "pass / all of them (unknown ones count as not passing)",
    )


def _listed(src: Sources) -> list[str]:
    return src.listed


def _topical(src: Sources, path: str) -> bool:
    return path in src.topical
