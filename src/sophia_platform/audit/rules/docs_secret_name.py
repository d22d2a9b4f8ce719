"""``docs-secret-name``: docs naming a secret the secrets manifest does not declare.

A finding is one line of a doc (Markdown, reStructuredText, AsciiDoc, plain text) with an
UPPER_SNAKE secret name (``OPENAI_API_KEY``; the name's last word is key, token, secret,
password, credentials, PAT, …) that the manifest lacks. The manifest is ``sophia.yaml``'s
``secrets:`` (keys, GitHub names, ESC names); a repository without one is judged against the
names its env templates declare (``.env.example``, ``*.env.example``, ``*_template.env``,
``.env.*.template``): until it is migrated, they are what it tells people to set. With neither
there is nothing to compare against and the rule reports nothing.

Not counted: GitHub's, gh's and Pulumi's own tokens (``GITHUB_TOKEN``, ``GH_TOKEN``,
``PULUMI_ACCESS_TOKEN``), generic names (``API_KEY``, ``SECRET_KEY``), placeholders
(``YOUR_API_KEY``, ``NEW_TOKEN``), status codes (``MISSING_API_KEY``), and names that are not
secrets (``SNOWFLAKE_PRIVATE_KEY_PATH``, ``*_URL``, ``*_ID``).

The suggestion is the closest manifest name by :func:`difflib.get_close_matches` (the matcher
``sophia validate`` already uses for its did-you-mean), names of the same vendor (first word)
first: a manifest holds tens to hundreds of names and each distinct doc name is matched once,
so no faster library (rapidfuzz) is worth a dependency.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from sophia_platform.audit import docs_signals as docs
from sophia_platform.audit.model import Finding, Severity
from sophia_platform.audit.rules.base import CorpusRule, RepoContext, fingerprint
from sophia_platform.audit.source import SourceFile

Mention = tuple[int, int, int, str]  # line, column, end column, name


_GENERIC_PARTS = frozenset(
    {"API", "KEY", "TOKEN", "SECRET", "PASSWORD", "ACCESS", "AUTH", "CLIENT", "PRIVATE", "APP"}
)


class Suggester:
    """The manifest name a doc's name most likely means ("" when none is close).

    Only names sharing a distinctive word are candidates, those of the same vendor (first
    word) first: ``GONG_API_KEY`` means ``GONG_ACCESS_KEY``, though ``OPENAI_API_KEY``
    shares more characters with it, and ``ZENROWS_API_KEY`` means none of them. The names
    are indexed by word once, so each doc name is compared with its few relatives only.
    """

    def __init__(self, manifest: frozenset[str]) -> None:
        self._vendor: dict[str, list[str]] = defaultdict(list)
        self._word: dict[str, list[str]] = defaultdict(list)
        for name in sorted(manifest):
            parts = name.split("_")
            self._vendor[parts[0]].append(name)
            for word in set(parts) - _GENERIC_PARTS:
                self._word[word].append(name)
        self._memo: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        """The suggestion for ``name`` (memoised: docs repeat names)."""
        if name not in self._memo:
            parts = name.split("_")
            close = difflib.get_close_matches(name, self._vendor.get(parts[0], []), 1, 0.5)
            if not close:
                related = {c for w in set(parts) - _GENERIC_PARTS for c in self._word.get(w, [])}
                close = difflib.get_close_matches(name, sorted(related), 1, 0.6)
            self._memo[name] = close[0] if close else ""
        return self._memo[name]


class DocsSecretNameRule(CorpusRule):
    """Docs that name secrets the manifest does not declare."""

    id = "docs-secret-name"
    order = 80
    tags = ("maintainability", "documentation", "secrets")
    name = "DocsSecretName"
    title = "A doc names a secret that the secrets manifest does not declare."
    help = (
        "Docs should name the secrets the platform really syncs (GitHub → Pulumi ESC → "
        "Kubernetes). A doc telling people to set `GONG_API_SECRET` while the manifest "
        "declares `GONG_ACCESS_KEY_SECRET` sends them to the wrong secret. Rename it in the "
        "doc to the suggested manifest name, or add the secret to `secrets:` in `sophia.yaml` "
        "if it is real. Prose is not rewritten automatically."
    )
    severity = Severity.NOTE
    manual_step = "rename the secret to the manifest's name (or declare it in sophia.yaml)"

    def summarize(self, file: SourceFile) -> tuple[str, Any] | None:
        """A doc's secret mentions, or an env template's declared names."""
        if file.kind in docs.DOC_KINDS:
            mentions = tuple(
                (line, column, column + m.end - m.start, m.name)
                for m in docs.secret_mentions(file)
                for line, column in (file.position(m.start),)
            )
            return ("doc", mentions) if mentions else None
        if docs.is_env_template(file):
            return "declared", docs.template_names(file.text, file.kind)
        return None

    def judge(self, summaries: Sequence[tuple[str, Any]], ctx: RepoContext) -> Iterator[Finding]:
        """One finding per doc line naming undeclared secrets."""
        manifest, source = docs.manifest_names(ctx.spec_text), "sophia.yaml"
        if not manifest:
            declared = [names for _, (what, names) in summaries if what == "declared"]
            manifest, source = frozenset().union(*declared), "the env templates"
        if not manifest:
            return
        suggest = Suggester(manifest)
        for path, (what, mentions) in summaries:
            if what != "doc":
                continue
            by_line: dict[int, list[Mention]] = defaultdict(list)
            for mention in mentions:
                if mention[3] not in manifest:
                    by_line[mention[0]].append(mention)
            for line, found in sorted(by_line.items()):
                names = list(dict.fromkeys(m[3] for m in found))
                hints = [f"{n} (did you mean {suggest(n)}?)" if suggest(n) else n for n in names]
                yield Finding(
                    rule_id=self.id,
                    path=path,
                    line=line,
                    column=found[0][1],
                    end_line=line,
                    end_column=found[0][2],
                    message=f"secret name not in {source}: {', '.join(hints)}",
                    severity=self.severity,
                    fingerprint=fingerprint(self.id, path, ",".join(names)),
                    data={
                        "names": ",".join(names),
                        "suggestions": ",".join(suggest(n) for n in names),
                        "manifest": source,
                    },
                )
