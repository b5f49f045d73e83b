"""docs/architecture.md's code map names every module of the three packages, and only modules that
exist: adding, renaming or removing one means updating its line."""

import re

from tests.docs.pages import doc_page, section
from tests.support import ROOT

PACKAGE_FOLDERS = ("stacks", "lambda_src/mwalerts", "mwalerts_cli")


def mapped_modules() -> list[str]:
    """The modules of the code map's tables: the first cell of each row, a path in backticks."""
    code_map = section(doc_page("architecture"), "## Code map")
    return re.findall(r"^\| `([\w/]+\.py)` \|", code_map, re.M)


def test_the_code_map_names_every_module():
    modules = {
        path.relative_to(ROOT).as_posix()
        for folder in PACKAGE_FOLDERS
        for path in (ROOT / folder).glob("*.py")
    }
    missing = modules - set(mapped_modules())
    assert not missing, f"docs/architecture.md's code map lacks {sorted(missing)}"


def test_the_code_map_names_only_modules_that_exist():
    gone = [module for module in mapped_modules() if not (ROOT / module).is_file()]
    assert not gone, f"docs/architecture.md's code map names modules that are gone: {gone}"


def test_the_code_map_names_each_module_once():
    modules = mapped_modules()
    assert len(modules) == len(set(modules))
