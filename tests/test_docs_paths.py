"""The documentation stands alone and points at files that exist.

README.md and docs/*.md name modules and files in backticks (`services/images/store.py`,
`docs/BINDINGS.md`, `src/pixhaven/local/bindings/ai.py`); after code moves, a stale name is a
newcomer's dead end. Paths may be written from the repository root or from src/pixhaven/.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "pixhaven"
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# A backticked token that names a file or folder of ours: a path with a slash, ending in
# one of our file types or in a slash (a folder). `a.b` dotted names are left alone.
PATH = re.compile(
    r"`([A-Za-z0-9_.][A-Za-z0-9_./-]*/[A-Za-z0-9_./-]*?(?:\.(?:py|md|toml|sql|sh|mjs|json)|/))`"
)


# Files of other projects the documents cite on purpose (Cloudflare's Python Workers SDK).
NOT_OURS = {"workers/rpc.py"}


def named_paths(text: str) -> list[str]:
    return [
        match
        for match in PATH.findall(text)
        if not match.startswith(("http", "/")) and match not in NOT_OURS
    ]


def exists(path: str) -> bool:
    return any((base / path).exists() for base in (ROOT, PACKAGE, ROOT / "src"))


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_named_path_exists(document):
    missing = [path for path in named_paths(document.read_text()) if not exists(path)]
    assert missing == [], f"{document.name} names paths that do not exist: {missing}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_nothing_points_outside_the_repository(document):
    text = document.read_text()
    assert "../" not in text, f"{document.name} points outside the repository"
    assert not re.search(r"\]\(https?://", text), f"{document.name} links to a web page"


def test_the_checker_sees_a_stale_path():
    assert named_paths("see `services/images.py` and `docs/BINDINGS.md`") == [
        "services/images.py",
        "docs/BINDINGS.md",
    ]
    assert not exists("services/images.py")
    assert exists("services/images/store.py") and exists("docs/BINDINGS.md")
