"""The command itself: help for every command, and the installed entry points."""

import subprocess
import sys
from pathlib import Path

import pytest

from mwalerts_cli.main import COMMANDS, main


@pytest.mark.parametrize("command", [[], *([command.NAME] for command in COMMANDS)])
def test_every_command_has_help(capsys, command):
    with pytest.raises(SystemExit) as stopped:
        main([*command, "--help"])

    assert stopped.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: mwalerts {' '.join(command)}".rstrip())
    assert "--profile" in out
    assert "--region" in out


def test_the_installed_command_and_the_redrive_module_run():
    bin_dir = Path(sys.executable).parent
    for command in (
        [str(bin_dir / "mwalerts"), "history", "--help"],
        [sys.executable, "-m", "mwalerts_cli.redrive", "--help"],
    ):
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("usage: ")
