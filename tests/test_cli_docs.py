"""Every CLI command is documented: in the README and with an example in its --help."""

from pathlib import Path

import click
from click.testing import CliRunner

from ksz_reports.cli import cli

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = ""):
    for name, cmd in sorted(group.commands.items()):
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", cmd


def test_every_command_is_in_the_readme():
    missing = [name for name, _ in _commands(cli) if f"ksz-reports {name}" not in README]
    assert missing == []


def test_every_command_help_has_an_example():
    runner = CliRunner()
    for name, _ in _commands(cli):
        result = runner.invoke(cli, [*name.split(), "--help"])
        assert result.exit_code == 0, name
        assert "Example" in result.output, name
        assert f"ksz-reports {name}" in result.output, name


def test_readme_starts_with_the_two_commands():
    first_block = README.split("```sh", 1)[1].split("```", 1)[0]
    assert "make demo" in first_block and "make test" in first_block
