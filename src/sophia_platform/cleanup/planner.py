"""Findings → a :class:`~sophia_platform.cleanup.plan.Plan` (nothing is changed here).

Archive moves come first, then one edit per rewritten file (hosts and placeholder secrets
together, checked by the language's rewriter), then ``sophia.yaml`` (config keys, required
secrets) and the config store (the addresses taken out of code).
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sophia_platform.audit.config import load_config
from sophia_platform.audit.model import SkippedFile
from sophia_platform.audit.source import SourceFile, file_kind
from sophia_platform.audit.vendored import Scope
from sophia_platform.audit.walker import DEFAULT_MAX_FILE_BYTES, list_files, read_source
from sophia_platform.cleanup import archive, configstore, deploy_commands, references
from sophia_platform.cleanup.findings import (
    DEPLOY_COMMAND,
    FIXED_RULES,
    MANUAL_STEPS,
    FindingLike,
    Mention,
)
from sophia_platform.cleanup.naming import assign_names, nodes_from_spec
from sophia_platform.cleanup.paths import inside
from sophia_platform.cleanup.plan import (
    Operation,
    Plan,
    Skipped,
    TextEdit,
    apply_edits,
    blob_id,
)
from sophia_platform.cleanup.rewriters import for_kind
from sophia_platform.cleanup.rewriters.base import Site
from sophia_platform.cleanup.spec_validation import validate_document
from sophia_platform.cleanup.specfile import SpecDocument

_SKIP_PREFIXES = (f"{archive.ARCHIVE_DIR}/", ".sophia/", ".git/")
_HIDDEN = "[line hidden: it holds a committed secret]"
_INDEX_MAX_BYTES = 16_000_000


@dataclass(frozen=True)
class PlanOptions:
    """What to plan: which rules to fix and which spec to update."""

    spec_path: Path | None = None
    rules: frozenset[str] = frozenset(FIXED_RULES)


def secret_name(key: str) -> str:
    """The manifest name of a secret-like key (``openai.api-key`` → ``OPENAI_API_KEY``)."""
    name = re.sub(r"[^A-Za-z0-9]+", "_", key).strip("_").upper()
    return name if name and not name[0].isdigit() else f"SECRET_{name}"


_GENERIC_SECRETS = frozenset(
    {
        "PASSWORD", "PASS", "PASSWD", "PWD", "SECRET", "TOKEN", "KEY", "API_KEY", "APIKEY",
        "ACCESS_KEY", "SECRET_KEY", "ACCESS_TOKEN", "AUTH_TOKEN", "CLIENT_SECRET", "PRIVATE_KEY",
    }
)  # fmt: skip
_YAML_KEY = re.compile(r"^-?\s*([A-Za-z0-9_.-]+)\s*:")


def qualified_secret_name(name: str, lines: list[str], line: int) -> str:
    """``redis: {password: x}`` in YAML → ``REDIS_PASSWORD`` (generic names get their parent)."""
    if name not in _GENERIC_SECRETS or not 0 < line <= len(lines):
        return name
    text = lines[line - 1]
    indent = len(text) - len(text.lstrip())
    for previous in reversed(lines[: line - 1]):
        stripped = previous.lstrip()
        if not stripped or stripped.startswith("#"):
            continue
        # The key of a list item ("- name: x") sits two columns right of its dash.
        key_indent = len(previous) - len(stripped) + (2 if stripped.startswith("- ") else 0)
        if key_indent < indent:
            match = _YAML_KEY.match(stripped)
            return f"{secret_name(match.group(1))}_{name}" if match else name
    return name


def make_plan(
    root: Path, findings: Sequence[FindingLike], options: PlanOptions | None = None
) -> Plan:
    """Plan the fixes for ``findings`` in the repository at ``root``."""
    options = options or PlanOptions()
    root = root.resolve()
    spec_path = options.spec_path or root / "sophia.yaml"
    wanted = [
        f for f in findings if f.rule_id in options.rules and not f.path.startswith(_SKIP_PREFIXES)
    ]
    secret_lines = _secret_lines(findings)
    plan = Plan()
    candidates = archive.archive_reasons(wanted)
    repo = _read_repository(root, candidates)
    if "redundant-deploy-path" in options.rules:
        _plan_one_offs(root, repo, candidates, plan)
    archived = _plan_archive(root, wanted, candidates, repo.index, plan)
    rest: list[FindingLike] = [f for f in wanted if f.path not in archived]
    if "swarm-reference" in options.rules:
        rest += [m for m in repo.commands if m.path not in archived]
    doc = SpecDocument.load(spec_path, create_for=root)
    store = configstore.read_values(root)
    hosts = [f for f in rest if f.rule_id == "hardcoded-ip" and f.data.get("address")]
    contexts: dict[str, list[str]] = defaultdict(list)
    for finding in findings:  # archived files name addresses too: their context counts
        if finding.rule_id == "hardcoded-ip" and finding.data.get("address"):
            contexts[finding.data["address"]].append(finding.data.get("key", ""))
    known = {**_literal_config(doc), **store}
    plan.names = assign_names(contexts, nodes_from_spec(doc.plain()), known)
    used_names, used_secrets = _plan_edits(root, hosts, rest, plan, secret_lines)
    _plan_wrapper(root, archived, plan)
    _list_references(root, repo, plan)
    _plan_spec(doc, used_names, used_secrets, plan, root, spec_path)
    for address, name in sorted(plan.names.items()):
        if name in used_names and store.get(name) != address:
            path = configstore.store_path(name)
            current = root / path
            before = blob_id(current.read_bytes()) if current.is_file() else None
            plan.operations.append(
                Operation(
                    "write",
                    path,
                    "address taken out of code",
                    before=before,
                    content=address + "\n",
                    mode=0o600,
                )
            )
            old = current.read_text(encoding="utf-8") if before else ""
            plan.diff += _diff(path, old, address + "\n", set(), new_file=before is None)
    plan.names = {a: n for a, n in plan.names.items() if n in used_names}
    plan.secrets = sorted(used_secrets)
    if set(options.rules) >= set(FIXED_RULES):  # a whole cleanup, not `--rules x` only
        _list_manual(findings, archived, plan)
    return plan


def _list_manual(findings: Sequence[FindingLike], archived: set[str], plan: Plan) -> None:
    """List the findings no rewrite fixes (docs prose) with the step a person takes.

    A line the plan already rewrites (an old deploy command in a doc, mapped by the command
    table) is fixed; an archived file is retired. Everything else of a rule with a
    ``manual_step`` is listed, never silently left.
    """
    edited = {(op.path, e.line) for op in plan.operations if op.kind == "edit" for e in op.edits}
    for f in findings:
        step = MANUAL_STEPS.get(f.rule_id)
        if step is None or f.path in archived or f.path.startswith(_SKIP_PREFIXES):
            continue
        if (f.path, f.line) in edited:
            continue
        names, to = f.data.get("names", ""), f.data.get("suggestions", "")
        pairs = zip(names.split(","), to.split(","), strict=False)
        renames = ", ".join(f"{name} → {new}" for name, new in pairs if name and new)
        why = f"prose, not rewritten: {step}" + (f" ({renames})" if renames else "")
        plan.skipped.append(Skipped(f.rule_id, f.path, f.line, why))


def _secret_lines(findings: Sequence[FindingLike]) -> dict[str, set[int]]:
    lines: dict[str, set[int]] = defaultdict(set)
    for finding in findings:
        if finding.rule_id == "committed-secret":
            lines[finding.path].update(range(finding.line, finding.end_line + 1))
    return lines


def _plan_archive(
    root: Path,
    findings: Sequence[FindingLike],
    reasons: dict[str, list[str]],
    index: references.MentionIndex,
    plan: Plan,
) -> set[str]:
    _keep_referenced_copies(index, findings, reasons, plan)
    moves: list[tuple[str, str, list[str]]] = []
    rules_of: dict[str, set[str]] = defaultdict(set)
    for finding in findings:
        rules_of[finding.path].add(finding.rule_id)
    for path in sorted(reasons):
        target = archive.target_of(path)
        inside(root, path)
        if (root / target).exists() or not (root / path).is_file():
            plan.skipped.append(Skipped("compose-file", path, 1, f"{target} already exists"))
            continue
        rules = sorted(rules_of[path]) or ["redundant-deploy-path"]  # a one-off has no finding
        why = "; ".join(reasons[path])
        plan.operations.append(Operation("move", path, why, target=target, rules=rules))
        moves.append((path, target, reasons[path]))
    if moves:
        readme = root / archive.README
        existing = readme.read_text(encoding="utf-8") if readme.is_file() else None
        content = archive.readme(existing, moves)
        before = blob_id(existing.encode()) if existing is not None else None
        plan.operations.append(
            Operation(
                "write", archive.README, "what was archived and why", before=before, content=content
            )
        )
        plan.diff += _diff(
            archive.README, existing or "", content, set(), new_file=existing is None
        )
    return set(reasons)


@dataclass
class _Repository:
    """What one read of the repository's in-scope files yields."""

    index: references.MentionIndex
    commands: list[FindingLike]
    paths: list[str]  # the files read (in scope)
    kinds: dict[str, str]  # path -> file kind (python, shell, docs, ...)


def _read_repository(root: Path, candidates: dict[str, list[str]]) -> _Repository:
    """One pass over the files the audit reads: mentions and unreported deploy commands.

    It indexes mentions of the files that may be archived, and finds
    ``docker compose … up`` in docs and scripts (no audit rule reports it line by line:
    compose is found per file; a deploy script stays when it is its group's canonical, and
    its compose commands then point at the one path too).

    Vendored, generated and excluded files are not read: the cleanup never edits them, and
    what they mention is not the repository's own use.
    """
    listing = list_files(root)
    asked = [*candidates, *(p for p in listing.paths if ONE_OFF.match(p))]
    words = {w for path in asked for w in references.file_words(path)}
    words |= {w for path in asked for w in references.copy_words(path)}
    index = references.MentionIndex(frozenset(words))
    commands: list[FindingLike] = []
    kinds: dict[str, str] = {}
    config = load_config(root)
    scope = Scope.of(listing.paths, enabled=config.vendored, include=config.include)
    for rel in listing.paths:
        if rel.startswith(_SKIP_PREFIXES) or config.excluded(rel) or scope.reason(rel):
            continue
        # Files too large for the audit are still searched for mentions (a 1.3 MB report
        # naming scripts that move); the cleanup edits none of them.
        source = read_source(listing.root, rel, _INDEX_MAX_BYTES)
        if isinstance(source, SkippedFile) or scope.generated(rel, source.text):
            continue
        index.add(rel, source.text)
        kinds[rel] = source.kind
        if source.size <= DEFAULT_MAX_FILE_BYTES and source.kind in ("docs", "shell"):
            commands += _unreported_commands(source)
    return _Repository(index, commands, list(kinds), kinds)


ONE_OFF = re.compile(r"^scripts/[^/]*deploy[^/]*\.py$")
"""Deploy-named Python scripts: the Definition of Done keeps at most :data:`ONE_OFF_MAX`."""
ONE_OFF_MAX = 2


def _plan_one_offs(
    root: Path, repo: _Repository, candidates: dict[str, list[str]], plan: Plan
) -> None:
    """Archive the deployment one-offs left in ``scripts/`` when there are too many.

    ``scripts/*deploy*.py`` that the audit does not flag (status checks, summaries, analyses
    of the retired deploy paths) are archived when more than :data:`ONE_OFF_MAX` would stay,
    except those that code or CI still runs or imports (an import of the module; a shell,
    workflow, Makefile or Dockerfile line naming it; a Python line that runs it through
    ``subprocess``/``os.system``): those stay and are listed with the manual step. Other
    mentions (a report listing it, ``print("python3 x_deploy.py")``) are listed as references.
    """
    left = [p for p in repo.paths if ONE_OFF.match(p) and p not in candidates]
    if len(left) <= ONE_OFF_MAX:
        return
    leaving = set(candidates) | set(left)
    named = references.mentions_of(repo.index, left, leaving)
    imported = references.referrers(repo.index, left, leaving)  # the bare module name too
    for path in left:
        users = set(named[path]) | {u for u in imported[path] if repo.kinds.get(u) == "python"}
        code = sorted(u for u in users if _runs(root, u, repo.kinds.get(u, ""), path))
        if not code:
            candidates[path] = [
                "a deployment one-off (`scripts/*deploy*.py`) besides `./deploy.sh`; "
                f"at most {ONE_OFF_MAX} such scripts stay"
            ]
            continue
        more = f" and {len(code) - 3} more" if len(code) > 3 else ""
        why = (
            f"a deployment one-off that {', '.join(code[:3])}{more} still run or import; "
            "fold it into `./deploy.sh` (or retire it) and update those files by hand"
        )
        plan.skipped.append(Skipped("redundant-deploy-path", path, 1, why))


_RUNNERS = re.compile(
    r"(?:^|/)(?:Makefile|GNUmakefile|[^/]*\.mk|justfile|Procfile|Dockerfile[^/]*|package\.json"
    r"|pyproject\.toml|setup\.cfg|tox\.ini)$"
)
_PY_RUNS = re.compile(r"^\s*(?:from|import)\s|subprocess|os\.system|Popen|check_call|check_output")


def _runs(root: Path, user: str, kind: str, script: str) -> bool:
    """Whether ``user`` (code, CI or build files; not docs or reports) runs or imports it."""
    if kind not in ("python", "shell", "yaml") and not _RUNNERS.search(user):
        return False
    words = [*references.file_words(script), *references.copy_words(script)]
    try:
        text = inside(root, user).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return True  # cannot tell: keep the script
    for line in text.splitlines():
        if not any(w in line for w in words) or line.lstrip().startswith("#"):
            continue
        if kind != "python" or _PY_RUNS.search(line):
            return True
    return False


def _unreported_commands(source: SourceFile) -> list[FindingLike]:
    found: list[FindingLike] = []
    if file_kind(source.path) not in ("docs", "shell", "other"):  # "other": a shebang script
        return found
    for line, start, end in deploy_commands.unreported_commands(source.text):
        data = {"construct": "docker compose up", "kind": source.kind}
        found.append(Mention(DEPLOY_COMMAND, source.path, line, start + 1, line, end + 1, data))
    return found


def _planned_text(root: Path, path: str, edits: dict[str, list[TextEdit]]) -> str:
    """The text ``path`` will have after the plan's edits."""
    text = inside(root, path).read_bytes().decode("utf-8", "replace")
    return apply_edits(text, edits[path]) if path in edits else text


def _list_references(root: Path, repo: _Repository, plan: Plan) -> None:
    """Files that stay and name an archived file: listed, for a person to update.

    A bare file name that a staying file also has (``deploy.sh``: the wrapper at the root)
    means that file; only a mention with the folder then points at the archived one.
    """
    edits = {op.path: op.edits for op in plan.operations if op.kind == "edit"}
    for path in edits:  # a rewritten line may no longer name the file
        if path in repo.kinds:
            repo.index.replace(path, _planned_text(root, path, edits))
    moved = {op.path for op in plan.operations if op.kind == "move"}
    written = {op.path for op in plan.operations if op.kind == "write"}
    staying = (set(repo.paths) - moved) | written
    taken = {PurePosixPath(p).name for p in staying}
    rule_of = {op.path: _archive_rule(op.rules) for op in plan.operations if op.kind == "move"}
    found = references.mentions_of(repo.index, sorted(moved), moved, taken)
    texts: dict[str, str] = {}
    for path, users in found.items():
        target = archive.target_of(path)
        for user, words in users.items():
            if user not in texts:
                texts[user] = _planned_text(root, user, edits)
            line = references.first_line(texts[user], words)
            why = (
                f"refers to archived `{path}` (now `{target}`); point it at the one deploy "
                "path or drop the reference by hand"
            )
            plan.skipped.append(Skipped(rule_of.get(path, "compose-file"), user, line, why))


_ARCHIVE_RULES = (
    "compose-file",
    "redundant-deploy-path",
    "redundant-workflow",
    "swarm-reference",
    "duplicate-file",
)


def _archive_rule(rules: list[str]) -> str:
    """The rule a file was archived for (a file can have findings of several)."""
    return next((r for r in _ARCHIVE_RULES if r in rules), "redundant-deploy-path")


def _plan_wrapper(root: Path, archived: set[str], plan: Plan) -> None:
    """Add the ``./deploy.sh`` wrapper when the plan's rewrites call it and there is none."""
    edits = (e for op in plan.operations if op.kind == "edit" for e in op.edits)
    if not any("./deploy.sh" in edit.new for edit in edits):
        return
    path = deploy_commands.WRAPPER_PATH
    if path in archived:  # a legacy deploy.sh leaves; its path is not free until it has
        why = 'deploy.sh is archived; add the wrapper (exec sophia "$@") after the apply'
        plan.skipped.append(Skipped("swarm-reference", path, 1, why))
        return
    if (root / path).exists() or (root / path).is_symlink():
        return  # the repository has its deploy.sh (the wrapper, or one a person looks after)
    content = deploy_commands.WRAPPER
    plan.operations.append(
        Operation("write", path, "the one deploy path", content=content, mode=0o755)
    )
    plan.diff += _diff(path, "", content, set(), new_file=True)


def _keep_referenced_copies(
    index: references.MentionIndex,
    findings: Sequence[FindingLike],
    reasons: dict[str, list[str]],
    plan: Plan,
) -> None:
    """Duplicates that something imports or names stay where they are, reported instead."""
    copies = {
        f.path: f.data.get("canonical", "")
        for f in findings
        if f.rule_id == "duplicate-file"
        and f.path in reasons
        and all(r.startswith(archive.DUPLICATE_OF) for r in reasons[f.path])
    }
    # Mentions in files archived by this plan, or in the copies' canonicals, do not count.
    ignore = set(reasons) | set(copies.values())
    for path, users in references.referrers(index, copies, ignore).items():
        if users:
            del reasons[path]
            more = f" and {len(users) - 3} more" if len(users) > 3 else ""
            why = (
                f"duplicate of {copies[path]}, but {', '.join(users[:3])}{more} refer to it; "
                "fold it into the canonical copy and update those references by hand"
            )
            plan.skipped.append(Skipped("duplicate-file", path, 1, why))


def _plan_edits(
    root: Path,
    hosts: Sequence[FindingLike],
    findings: Sequence[FindingLike],
    plan: Plan,
    secret_lines: dict[str, set[int]],
) -> tuple[set[str], set[str]]:
    sites: dict[str, list[tuple[Site, FindingLike]]] = defaultdict(list)
    for finding in hosts:
        name = plan.names[finding.data["address"]]
        sites[finding.path].append((_site(finding, name, "host"), finding))
    for finding in findings:
        if finding.rule_id == "placeholder-secret" and finding.data.get("key"):
            name = secret_name(finding.data["key"])
            sites[finding.path].append((_site(finding, name, "secret"), finding))
        elif finding.rule_id in ("swarm-reference", DEPLOY_COMMAND):  # in a file that stays
            construct = finding.data.get("construct", "swarm")
            sites[finding.path].append((_site(finding, construct, "command"), finding))
    used_names: set[str] = set()
    used_secrets: set[str] = set()
    for path in sorted(sites):
        done = _plan_file(root, path, sites[path], plan, secret_lines.get(path, set()))
        used_names.update(site.name for site in done if site.kind == "host")
        used_secrets.update(site.name for site in done if site.kind == "secret")
    return used_names, used_secrets


def _site(finding: FindingLike, name: str, kind: str) -> Site:
    end = finding.end_column - 1 if finding.end_line == finding.line else -1
    return Site(finding.line, finding.column - 1, end, "", name, kind)  # type: ignore[arg-type]


def _plan_file(
    root: Path,
    path: str,
    pairs: list[tuple[Site, FindingLike]],
    plan: Plan,
    hidden: set[int],
) -> list[Site]:
    def skip(reason: str, which: list[tuple[Site, FindingLike]] = pairs) -> list[Site]:
        plan.skipped += [Skipped(f.rule_id, path, f.line, reason) for _, f in which]
        return []

    kind = pairs[0][1].data.get("kind", "")
    rewriter = for_kind(kind)
    if rewriter is None:
        return skip(f"no rewriter for {kind or 'this kind of'} file; replace it by hand")
    unknown = [(s, f) for s, f in pairs if s.kind not in rewriter.site_kinds]
    if unknown:
        skip(f"the {kind} rewriter cannot fix {unknown[0][1].rule_id}; edit it by hand", unknown)
        pairs = [(s, f) for s, f in pairs if s.kind in rewriter.site_kinds]
    try:
        text = inside(root, path).read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return skip("not readable as UTF-8")
    lines = text.split("\n")
    sites: list[Site] = []
    rule_of: dict[Site, str] = {}
    for site, finding in pairs:
        if site.end < 0 or site.line > len(lines):
            skip("finding spans lines", [(site, finding)])
            continue
        flagged = lines[site.line - 1][site.start : site.end]
        expected = finding.data.get("address", flagged) if site.kind == "host" else flagged
        if not flagged or flagged != expected:
            skip("the file changed since the audit; run the audit again", [(site, finding)])
            continue
        name = site.name
        if site.kind == "secret" and kind == "yaml":
            name = qualified_secret_name(name, lines, site.line)
        fixed = Site(site.line, site.start, site.end, flagged, name, site.kind)
        sites.append(fixed)
        rule_of[fixed] = finding.rule_id
    unique = list(dict.fromkeys(sites))
    if not unique:
        return []
    result = rewriter.rewrite(text, unique)
    for site, reason in result.skipped:
        plan.skipped.append(Skipped(rule_of.get(site, _rule(site)), path, site.line, reason))
    done = [s for s in unique if s not in {x for x, _ in result.skipped}]
    if not result.edits:
        return []
    try:
        new = apply_edits(text, result.edits)
    except ValueError as exc:
        return skip(f"rewrite failed: {exc}")
    problem = rewriter.check(text, new)
    if problem:
        return skip(f"{problem}; left unchanged")
    rules = sorted({rule_of.get(s, _rule(s)) for s in done})
    plan.operations.append(
        Operation(
            "edit",
            path,
            _EDIT_REASON.get(tuple(rules), "config lookups and the one deploy path"),
            before=blob_id(text.encode()),
            after=blob_id(new.encode()),
            edits=result.edits,
            rules=rules,
        )
    )
    plan.diff += _diff(path, text, new, hidden)
    return done


_EDIT_REASON: dict[tuple[str, ...], str] = {
    ("swarm-reference",): "the one deploy path instead of Swarm commands",
}
_RULE_OF: dict[str, str] = {
    "host": "hardcoded-ip",
    "secret": "placeholder-secret",
    "command": "swarm-reference",
}


def _rule(site: Site) -> str:
    return _RULE_OF[site.kind]


def _literal_config(doc: SpecDocument) -> dict[str, str]:
    config = doc.plain().get("config")
    if not isinstance(config, dict):
        return {}
    return {str(k): str(v) for k, v in config.items() if not str(v).startswith("${")}


def _plan_spec(
    doc: SpecDocument,
    names: set[str],
    secrets: set[str],
    plan: Plan,
    root: Path,
    spec_path: Path,
) -> None:
    node_vars = {n.var for n in nodes_from_spec(doc.plain())}
    config = doc.section("config") if names - node_vars else None
    for name in sorted(names - node_vars):
        assert config is not None
        if name not in config:
            config[name] = "${" + name + "}"
    if secrets:
        manifest = doc.section("secrets")
        for name in sorted(secrets):
            if name not in manifest:
                manifest[name] = {
                    "required": True,
                    "description": "was a placeholder in the code; removed by sophia cleanup",
                }
    if not doc.changed():
        return
    errors, _ = validate_document(doc)
    rel = spec_path.resolve().relative_to(root).as_posix()
    if errors:
        plan.skipped.append(
            Skipped("hardcoded-ip", rel, 1, f"sophia.yaml would be invalid: {errors[0]}")
        )
        return
    new = doc.text()
    before = blob_id(doc.original.encode()) if spec_path.exists() else None
    plan.operations.append(
        Operation("write", rel, "config keys and required secrets", before=before, content=new)
    )
    plan.diff += _diff(rel, doc.original, new, set(), new_file=not spec_path.exists())


def _diff(path: str, old: str, new: str, hidden: set[int], *, new_file: bool = False) -> str:
    """A unified diff; lines that hold a committed secret are never shown."""
    old_lines = old.splitlines(keepends=True)
    masked = [(_HIDDEN + "\n") if i + 1 in hidden else line for i, line in enumerate(old_lines)]
    secret_text = {old_lines[i - 1] for i in hidden if 0 < i <= len(old_lines)}
    new_lines = [(_HIDDEN + "\n") if line in secret_text else line for line in new.splitlines(True)]
    return "".join(
        difflib.unified_diff(
            masked,
            new_lines,
            fromfile="/dev/null" if new_file else f"a/{path}",
            tofile=f"b/{path}",
        )
    )
