"""How the CLI speaks when it is used wrong: plain argument names in the usage line, and
"did you mean" only when a real option is close (or lives on another command).

Typer writes a required argument as ``{NAME}``, and click suggests whichever option is
least unlike a typo (``--fromat`` -> ``--domain``); a user reads both as noise.
"""

from __future__ import annotations

import difflib
from typing import Any

# typer vendors click (pinned in requirements.lock); its parser raises this exception
from typer._click.core import Context
from typer._click.exceptions import NoSuchOption
from typer.core import TyperArgument, TyperCommand

# How alike a typo and an option must be to be offered (click's own cutoff is 0.6).
_CLOSE = 0.75


class PlainCommand(TyperCommand):
    """A command whose usage line reads ``dossier research [OPTIONS] NAME``."""

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = param.metavar or (param.name or "").upper()
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except NoSuchOption as exc:
            typo = exc.option_name
            raise NoSuchOption(typo, message=self._said(ctx, typo), ctx=ctx) from None

    def _said(self, ctx: Context, typo: str) -> str:
        mine = [o for p in self.get_params(ctx) for o in getattr(p, "opts", ()) if o[:2] == "--"]
        close = difflib.get_close_matches(typo, mine, n=1, cutoff=_CLOSE)
        if close:
            return f"No such option: {typo}. Did you mean {close[0]}?"
        # an option of another command ("--format" is `dossier export`'s)
        root = ctx.find_root()
        for name, command in getattr(root.command, "commands", {}).items():
            options = [o for p in command.params for o in getattr(p, "opts", ())]
            near = difflib.get_close_matches(typo, options, n=1, cutoff=_CLOSE)
            if command is not self and near:
                return (
                    f"No such option: {typo} ({near[0]} is an option of `{root.info_name} {name}`)."
                )
        return f"No such option: {typo}. See the options with -h."


def command_settings() -> dict[str, Any]:
    """What every command registers with."""
    return {"cls": PlainCommand}
