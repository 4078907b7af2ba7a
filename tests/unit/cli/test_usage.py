"""The CLI's words when it is used wrong: plain names in usage, 'did you mean' only for a
real, close option, and the command an option belongs to."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from dossier.cli.usage import command_settings

app = typer.Typer()


@app.command(**command_settings())
def research(name: str, domain: str = typer.Option("", "--domain")) -> None:
    """Research."""


@app.command(**command_settings())
def export(session: str, format: str = typer.Option("md", "--format")) -> None:
    """Export."""


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 2
    return result.output


def test_the_usage_line_names_the_argument_plainly() -> None:
    assert "Usage: root research [OPTIONS] NAME" in run("research")


def test_a_close_typo_gets_its_option() -> None:
    assert "Did you mean --domain?" in run("research", "Stripe", "--domian", "x")


def test_an_option_of_another_command_is_said_to_be_there() -> None:
    out = run("research", "Stripe", "--format", "md")
    assert "--format is an option of `root export`" in out
    assert "Did you mean" not in out


def test_a_far_typo_gets_no_guess() -> None:
    out = run("research", "Stripe", "--zzz")
    assert "Did you mean" not in out and "See the options with -h" in out
