"""The `mlgit` command line: options in, one call to `mlgit/commands/<name>.py`, a report out.

click wiring only, one module per area (project, data, models, pipelines); heavy modules are
imported inside the commands so that `mlgit --help` and the pre-commit hooks start fast.
"""

from mlgit.cli import data, models, pipelines, project  # noqa: F401 (they attach the commands)
from mlgit.cli.group import cli

__all__ = ["cli", "main"]


def main() -> None:
    cli(prog_name="mlgit")
