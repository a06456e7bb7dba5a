"""The README documents every setting and every CLI command (Datasette's habit)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mapapp.cli import cli
from mapapp.settings import SETTINGS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("setting", [s.name for s in SETTINGS])
def test_every_setting_is_in_the_readme(setting: str) -> None:
    assert f"`MAPAPP_{setting}`" in README


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_is_in_the_readme(command: str) -> None:
    assert f"mapapp {command}" in README


def test_readme_gives_the_two_commands_ci_runs() -> None:
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci and "make test" in README and "make run" in README
