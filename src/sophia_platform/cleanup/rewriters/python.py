"""Python: an address becomes a config lookup; the import is added once per file.

The lookup is ``require_config("NAME").reveal()`` (``require`` of :mod:`sophia_platform.config`,
imported under a name no module already uses for something else). Not a bare
``get_config_value("NAME")``: that returns a redacted ``SecretValue`` (or None), so an f-string
would render ``**********`` and a client would be handed an object instead of a host name —
the rewritten code would compile and then connect nowhere. ``require`` fails at once, naming
every configuration layer it searched, when the key is missing.

Works on tokens, not text: a string that *is* the address becomes the call; a string that
contains it becomes an f-string with the call in a replacement field (other braces doubled); an
address in a comment or docstring becomes the key's name. A placeholder secret string becomes
the same lookup. The result must ``compile()``.

A module that does not compile as it is (an indentation error half-way down, an unterminated
string) cannot run, so nothing it does can break; its addresses are still configuration
debt. It is rewritten from its tokens up to the error: docstrings are the strings that stand
alone as a statement, the import goes after the leading comments, docstring and
``__future__`` imports, and the result must fail to compile exactly as the original did (same
error, same place), so the rewrite added no new error. Sites after the error are listed.
"""

from __future__ import annotations

import ast
import bisect
import io
import re
import tokenize
from dataclasses import dataclass
from typing import ClassVar

from sophia_platform.cleanup.plan import TextEdit, split_lines
from sophia_platform.cleanup.rewriters.base import Rewrite, Rewriter, Site, span_edit

LOOKUP = "require_config"
IMPORT_LINE = f"from sophia_platform.config import require as {LOOKUP}\n"
_PREFIX = re.compile(r"^[A-Za-z]*")
_CODING = re.compile(r"^[ \t\f]*#.*coding[:=]")


@dataclass(frozen=True)
class _Token:
    kind: str  # "string" | "comment"
    start: int  # absolute offsets into the text
    end: int


class _Offsets:
    def __init__(self, lines: list[str]) -> None:
        self.starts = [0]
        for line in lines:
            self.starts.append(self.starts[-1] + len(line))

    def absolute(self, line: int, column: int) -> int:
        return self.starts[line - 1] + column

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1]


def _tokens(
    text: str, offsets: _Offsets, raw: list[tokenize.TokenInfo] | None = None
) -> list[_Token]:
    fstart = getattr(tokenize, "FSTRING_START", -1)
    fend = getattr(tokenize, "FSTRING_END", -1)
    found: list[_Token] = []
    depth, opened = 0, 0
    for tok in raw if raw is not None else tokenize.generate_tokens(io.StringIO(text).readline):
        start = offsets.absolute(*tok.start)
        end = offsets.absolute(*tok.end)
        if tok.type == fstart:  # Python >= 3.12 splits f-strings into several tokens
            depth += 1
            opened = start if depth == 1 else opened
        elif tok.type == fend:
            depth -= 1
            if depth == 0:
                found.append(_Token("string", opened, end))
        elif depth == 0 and tok.type == tokenize.STRING:
            found.append(_Token("string", start, end))
        elif depth == 0 and tok.type == tokenize.COMMENT:
            found.append(_Token("comment", start, end))
    return found


def _partial_tokens(text: str, upto: int | None = None) -> list[tokenize.TokenInfo]:
    """The tokens of ``text`` up to the first error, and up to line ``upto`` when given."""
    out: list[tokenize.TokenInfo] = []
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    while True:
        try:
            token = next(tokens)
        except (StopIteration, SyntaxError, tokenize.TokenError):
            return out
        out.append(token)
        if upto is not None and token.type == tokenize.NEWLINE and token.start[0] > upto:
            return out  # tokenize is most of a rewrite's time: stop after the last site


_SKIPPED = frozenset({tokenize.NL, tokenize.COMMENT, tokenize.ENCODING})
_STATEMENT_START = frozenset({tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT})


def _lone_strings(raw: list[tokenize.TokenInfo]) -> set[tuple[int, int]]:
    """Starts of strings that are a statement on their own (docstrings), from tokens only."""
    significant = [t for t in raw if t.type not in _SKIPPED]
    starts: set[tuple[int, int]] = set()
    for i, tok in enumerate(significant):
        if tok.type != tokenize.STRING:
            continue
        before = significant[i - 1].type if i else tokenize.NEWLINE
        after = significant[i + 1].type if i + 1 < len(significant) else tokenize.ENDMARKER
        if before in _STATEMENT_START and after in (tokenize.NEWLINE, tokenize.ENDMARKER):
            starts.add(tok.start)
    return starts


def _import_line(raw: list[tokenize.TokenInfo]) -> int:
    """The 0-based line after the module docstring and ``__future__`` imports (tokens only)."""
    significant = [t for t in raw if t.type not in _SKIPPED]
    after, i = 0, 0
    docstring = significant[:2] and significant[0].type == tokenize.STRING
    if docstring and len(significant) > 1 and significant[1].type == tokenize.NEWLINE:
        after, i = significant[1].end[0], 2
    while i + 1 < len(significant) and significant[i].string == "from":
        if significant[i + 1].string != "__future__":
            break
        end = next(
            (j for j in range(i, len(significant)) if significant[j].type == tokenize.NEWLINE), None
        )
        if end is None:
            break
        after, i = significant[end].end[0], end + 1
    return after


def _compile_error(text: str) -> tuple[str, int] | None:
    try:
        compile(text, "<module>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        message = re.sub(r"\d+", "N", getattr(exc, "msg", str(exc)))  # "... on line 5"
        return (message, getattr(exc, "lineno", 0) or 0)
    return None


def has_import(tree: ast.Module) -> bool:
    """True when the module already imports ``require as require_config`` from the config lib."""
    return any(
        isinstance(node, ast.ImportFrom)
        and node.module == "sophia_platform.config"
        and any(a.name == "require" and a.asname == LOOKUP for a in node.names)
        for node in tree.body
    )


def binds_lookup_name(tree: ast.Module, text: str | None = None) -> bool:
    """True when the module uses ``require_config`` for something other than our import."""
    if text is not None and LOOKUP not in text:
        return False  # the walk below is most of a rewrite's time on large modules
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name == LOOKUP:
                return True
        elif isinstance(node, ast.Name) and node.id == LOOKUP and isinstance(node.ctx, ast.Store):
            return True
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            ours = isinstance(node, ast.ImportFrom) and node.module == "sophia_platform.config"
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                if bound == LOOKUP and not (ours and alias.name == "require"):
                    return True
    return False


def import_edit(tree: ast.Module, lines: list[str]) -> TextEdit:
    """Insert the import after the module docstring and ``__future__`` imports."""
    after = 0
    for index, node in enumerate(tree.body):
        is_doc = (
            index == 0
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        )
        is_future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
        if not (is_doc or is_future):
            break
        after = node.end_lineno or node.lineno
    return _import_after(after, lines)


def _token_import_edit(raw: list[tokenize.TokenInfo], lines: list[str]) -> TextEdit:
    """:func:`import_edit` for a module that does not parse (placed from its tokens)."""
    return _import_after(_import_line(raw), lines)


def _import_after(after: int, lines: list[str]) -> TextEdit:
    """The import inserted after 0-based line ``after`` (0: after a shebang/coding line)."""
    if after == 0:
        while after < len(lines) and (lines[after].startswith("#!") or _CODING.match(lines[after])):
            after += 1
    new = IMPORT_LINE
    if after == len(lines) and lines and not lines[-1].endswith("\n"):
        new = "\n" + IMPORT_LINE
    return TextEdit(after + 1, 0, 0, "", new)


def _call(name: str, quote: str = '"') -> str:
    return f"{LOOKUP}({quote}{name}{quote}).reveal()"


class PythonRewriter(Rewriter):
    """``HOST = "10.0.0.5"`` → ``HOST = require_config("NODE_AI_CORE_HOST").reveal()``."""

    kinds: ClassVar[frozenset[str]] = frozenset({"python"})

    def rewrite(self, text: str, sites: list[Site]) -> Rewrite:
        """Rewrite string literals, comments and docstrings that hold the sites."""
        lines = split_lines(text)
        offsets = _Offsets(lines)
        out = Rewrite()
        tree: ast.Module | None
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            tree = None  # it does not compile as it is: work from its tokens up to the error
        # Strings that stand alone as a statement (docstrings, and bare strings, which
        # nothing reads either) get the name; tokens are read up to the last site only.
        raw = _partial_tokens(text, max((s.line for s in sites), default=0) + 1)
        tokens = _tokens(text, offsets, raw)
        docstrings = _lone_strings(raw)
        unparsed_uses = re.search(r"\b" + LOOKUP + r"\b", text) and IMPORT_LINE not in text
        if tree is None and unparsed_uses:
            out.skipped += [(s, f"the module already uses the name {LOOKUP}") for s in sites]
            return out
        if tree is not None and binds_lookup_name(tree, text):
            out.skipped += [(s, f"the module already defines {LOOKUP}") for s in sites]
            return out
        groups: dict[_Token | None, list[Site]] = {}
        for site in sites:
            at = offsets.absolute(site.line, site.start)
            token = next((t for t in tokens if t.start <= at < t.end), None)
            groups.setdefault(token, []).append(site)
        calls = False
        for token, group in groups.items():
            if token is None:
                why = "not inside a string or comment"
                if tree is None:
                    why = "after the point where the file stops compiling; fix its syntax first"
                out.skipped += [(s, why) for s in group]
                continue
            position = offsets.position(token.start)
            if token.kind == "comment" or position in docstrings:
                for site in group:
                    if site.kind == "host":
                        out.edits.append(span_edit(lines, site, site.name))
                    else:
                        out.skipped.append((site, "placeholder inside a comment or docstring"))
                continue
            edits, reason = self._string(text, token, group, offsets)
            if reason:
                out.skipped += [(s, reason) for s in group]
            else:
                out.edits += edits
                calls = True
        if calls and tree is None and IMPORT_LINE not in text:
            out.edits.append(_token_import_edit(_partial_tokens(text), lines))
        elif calls and tree is not None and not has_import(tree):
            out.edits.append(import_edit(tree, lines))
        return out

    def _string(
        self, text: str, token: _Token, sites: list[Site], offsets: _Offsets
    ) -> tuple[list[TextEdit], str | None]:
        literal = text[token.start : token.end]
        prefix = _PREFIX.match(literal).group(0)  # type: ignore[union-attr]
        quote = literal[len(prefix) : len(prefix) + 3]
        quote = quote if quote in ('"""', "'''") else quote[0]
        if "b" in prefix.lower():
            return [], "bytes literal"
        body_start = token.start + len(prefix) + len(quote)
        body = text[body_start : token.end - len(quote)]
        line, column = offsets.position(token.start)
        one_line = "\n" not in literal
        whole = len(sites) == 1 and sites[0].text == body and "f" not in prefix.lower()
        if any(s.kind == "secret" for s in sites) or whole:
            if not one_line:
                return [], "multi-line string"
            return [
                TextEdit(line, column, column + len(literal), literal, _call(sites[0].name))
            ], None
        inner = "'" if quote[0] == '"' else '"'
        edits: list[TextEdit] = []
        spans = [
            (offsets.absolute(s.line, s.start), offsets.absolute(s.line, s.end)) for s in sites
        ]
        if "f" not in prefix.lower():
            new_prefix = prefix.replace("u", "").replace("U", "") + "f"
            edits.append(TextEdit(line, column, column + len(prefix), prefix, new_prefix))
            for index, char in enumerate(body):
                at = body_start + index
                if char in "{}" and not any(a <= at < b for a, b in spans):
                    brace_line, brace_col = offsets.position(at)
                    edits.append(TextEdit(brace_line, brace_col, brace_col + 1, char, char * 2))
        for site in sites:
            field = "{" + _call(site.name, inner) + "}"
            edits.append(TextEdit(site.line, site.start, site.end, site.text, field))
        return edits, None

    def check(self, original: str, rewritten: str) -> str | None:
        """The rewritten module must compile, or fail exactly as the original did."""
        error = _compile_error(rewritten)
        if error is None:
            return None
        before = _compile_error(original)
        shift = rewritten.count("\n") - original.count("\n")  # the import line, if added
        if before is not None and (before[0], before[1] + shift) == error:
            return None
        return f"the rewritten Python would not compile ({error[0]}, line {error[1]})"
