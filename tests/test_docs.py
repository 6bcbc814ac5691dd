"""The user guide's examples run: every ```python block of docs/*.md, page by page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# the user guide's pages and the README's tour
PAGES = sorted(DOCS.glob("*.md")) + [ROOT / "README.md"]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_examples_run(page):
    blocks = BLOCK.findall(page.read_text())
    namespace: dict = {"__name__": f"docs.{page.stem}"}
    for i, code in enumerate(blocks):
        try:
            exec(compile(code, f"{page.name}[block {i}]", "exec"), namespace)
        except ModuleNotFoundError as exc:  # an optional peer (torch, sklearn) is not installed
            pytest.skip(f"{page.name} needs {exc.name}")


def test_every_page_is_listed_in_the_index():
    index = (DOCS / "README.md").read_text()
    for page in DOCS.glob("*.md"):
        if page.name != "README.md":
            assert f"({page.name})" in index, page.name
