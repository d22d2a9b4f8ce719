"""What counts as a reference to a file: before a copy is archived, and after a file is."""

from __future__ import annotations

import pytest

from sophia_platform.cleanup.references import (
    MentionIndex,
    copy_words,
    file_words,
    first_line,
    mentions_of,
    referrers,
)


def _index(paths: list[str], files: dict[str, str]) -> MentionIndex:
    words = {w for p in paths for w in (*copy_words(p), *file_words(p))}
    index = MentionIndex(frozenset(words))
    for path, text in files.items():
        index.add(path, text)
    return index


@pytest.mark.parametrize(
    ("path", "text", "refers"),
    [
        ("services/worker/retry_helpers.py", "from worker.retry_helpers import retry", True),
        ("services/worker/retry_helpers.py", "from .retry_helpers import retry", True),
        ("services/worker/retry_helpers.py", "import retry_helpers", True),
        ("services/worker/retry_helpers.py", "see retry_helpers.py", True),
        ("services/worker/retry_helpers.py", "def retry_helpers_v2(): ...", False),
        ("services/worker/retry_helpers.py", "my-retry_helpers", False),
        ("services/api/Dockerfile.fixed", "    dockerfile: Dockerfile.fixed", True),
        ("services/api/Dockerfile.fixed", "FROM python (see Dockerfile)", False),
        ("scripts/deploy_v2.sh", "bash ./scripts/deploy_v2.sh prod", True),
        ("scripts/deploy_v2.sh", "deploy_v2 was faster", False),  # not Python: file name only
        ("lib/__init__.py", "from lib import x", False),  # a package marker, not a module name
        ("docker-compose.yml", "cp docker-compose.yml.bak docker-compose.yml", True),
        ("docker-compose.yml", "see my-docker-compose.yml", False),
        ("docker-compose.yml", "docker-compose.ymlx", False),
        (".env.production", "cp .env.production .env", True),
        (".env.production", "a.env.production", False),
    ],
)
def test_a_copy_is_referred_to(path: str, text: str, refers: bool) -> None:
    index = _index([path], {"user.txt": text})
    assert (referrers(index, [path])[path] == ["user.txt"]) is refers


def test_a_file_never_refers_to_itself_and_ignored_files_do_not_count() -> None:
    path = "scripts/deploy_v2.sh"
    index = _index([path], {path: "deploy_v2.sh", "old.md": "deploy_v2.sh", "a.md": "deploy_v2.sh"})
    assert referrers(index, [path], ignore={"old.md"})[path] == ["a.md"]


def test_mentions_of_an_archived_file_give_the_first_line() -> None:
    archived = ["scripts/deploy_prod.py", "docker-compose.prod.yml"]
    files = {
        "README.md": "intro\n\nrun `python scripts/deploy_prod.py`\nagain deploy_prod.py\n",
        "Makefile": "up:\n\tdocker compose -f docker-compose.prod.yml up\n",
        "app/main.py": "from scripts.deploy_prod import main\n",
        "docs/x.md": "deploy_prod is a word, not the file\n",
    }
    found = mentions_of(_index(archived, files), archived)
    lines = {
        path: {user: first_line(files[user], words) for user, words in users.items()}
        for path, users in found.items()
    }
    assert lines["scripts/deploy_prod.py"] == {"README.md": 3, "app/main.py": 1}
    assert lines["docker-compose.prod.yml"] == {"Makefile": 2}


def test_the_index_grows_with_the_text_not_with_the_paths_asked_about() -> None:
    """Thousands of paths, one pass: every token is looked up, no pattern per path."""
    paths = [f"scripts/deploy_{i}.py" for i in range(3000)]
    files = {
        f"doc{i}.md": f"python scripts/deploy_{i}.py; see deploy_{i * 7}.py\n" for i in range(300)
    }
    found = mentions_of(_index(paths, files), paths)
    assert set(found["scripts/deploy_7.py"]) == {"doc1.md", "doc7.md"}
    assert sum(len(users) for users in found.values()) == 300 + 299  # doc0 names one file
