"""The commands the README and the docs/ pages tell you to run exist: each `make` target is in the
Makefile, and each option of the operator command is one it accepts."""

import argparse
import re
import subprocess

import pytest

from mwalerts_cli.main import build_parser
from mwalerts_cli.main import main as mwalerts
from tests.docs.pages import doc_page, every_page, section
from tests.support import ROOT


def makefile_targets() -> set[str]:
    """The Makefile's targets as make itself reads them (rules built from variables included),
    from its database: `make -p` with no rule run (-q), no built-in rules (-rR)."""
    database = subprocess.run(
        ["make", "-pRrq", "-f", "Makefile", ":"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,  # -q exits 1: the ":" target is not up to date
    ).stdout
    return set(re.findall(r"(?<!# Not a target:\n)^([a-z][\w-]*):", database, re.M))


def documented_make_targets() -> set[str]:
    """`make X` in inline code or at the start of a line of a code block."""
    found = set()
    for page in every_page():
        found |= set(re.findall(r"(?:`|^)make ([a-z][\w-]*)", page.read_text(), re.M))
    return found


def test_every_documented_make_target_exists():
    missing = documented_make_targets() - makefile_targets()
    assert not missing, f"the docs name make targets the Makefile lacks: {sorted(missing)}"


def documented_options() -> list[tuple[str, str]]:
    """(command, option) for each option named in a row of docs/cli.md's table of commands."""
    table = section(doc_page("cli"), "## Commands")
    return [
        (command, option)
        for command, row in re.findall(r"^\| `mwalerts (\w+)(.*)$", table, re.M)
        for option in sorted(set(re.findall(r"--[a-z][a-z-]*", row)))
    ]


def help_text(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exited:
        mwalerts([*argv, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(("command", "option"), documented_options())
def test_every_option_in_the_table_of_commands_is_accepted(command, option, capsys):
    assert re.search(rf"{option}\b", help_text(capsys, command)), f"mwalerts {command}: {option}?"


def test_the_table_of_commands_lists_every_command():
    (commands,) = [
        action
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    ]
    assert {command for command, _ in documented_options()} == set(commands.choices)
