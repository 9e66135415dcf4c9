"""The `mlgit` group: every command runs inside the one error handler, and help lists the
commands in the order of the user's day."""

from __future__ import annotations

from typing import Any

import click

from mlgit import __version__
from mlgit.errors import error_handler

ORDER = (
    "init", "check-config", "track", "schema", "validate", "profile", "drift", "monitor",
    "evaluate", "gate", "register", "promote", "rollback", "deprecate", "unassign", "registry",
    "reproduce", "report", "ci", "check-large-files", "doctor", "demo",
)  # fmt: skip


class _Group(click.Group):
    """Runs every command inside the one error handler (MlgitError -> exit 2)."""

    def invoke(self, ctx: click.Context) -> Any:
        with error_handler(debug=ctx.params.get("debug", False)):
            return super().invoke(ctx)

    def list_commands(self, ctx: click.Context) -> list[str]:
        known = [name for name in ORDER if name in self.commands]  # the user's day
        return known + sorted(set(self.commands) - set(known))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click cuts each summary at ~45 characters; a whole first sentence (wrapped) says more
        rows = [
            (name, self.commands[name].get_short_help_str(limit=120))
            for name in self.list_commands(ctx)
            if not self.commands[name].hidden
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlgit")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
def cli(debug: bool) -> None:
    """mlgit: datasets and models in git + DVC, checked on every change.

    Exit codes: 0 all checks pass, 1 a check failed, 2 usage, config or input error.
    """
