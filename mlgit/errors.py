"""The one place where errors become messages and exit codes (as pre-commit's error_handler).

`MlgitError` is for the user: a one-line message naming the file, the place and the fix, exit 2.
Anything else is a bug in mlgit: one line on screen, the traceback in a log file.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_BUG = 3


class MlgitError(Exception):
    """A problem with the user's input, config, data or environment (exit 2)."""


def _write_log(exc: BaseException) -> Path | None:
    import traceback

    from mlgit.locations import log_path

    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as f:
            f.write(f"mlgit {_version()} on Python {sys.version.split()[0]}\n")
            f.write(f"command: {' '.join(sys.argv)}\n\n")
            f.write("".join(traceback.format_exception(exc)))
    except OSError:
        return None
    return path


def _version() -> str:
    from mlgit import __version__

    return __version__


@contextlib.contextmanager
def error_handler(debug: bool = False) -> Iterator[None]:
    """MlgitError -> `mlgit: error: ...` and exit 2; any other exception -> a bug report."""
    from click.exceptions import Abort, ClickException, Exit

    try:
        yield
    except (ClickException, Exit, Abort):  # click's own usage errors: it reports them (exit 2)
        raise
    except MlgitError as exc:
        if debug:
            _print_traceback()
        from mlgit.escape import printable

        print(f"mlgit: error: {printable(str(exc), newlines=False)}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from None
    except KeyboardInterrupt:
        print("mlgit: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    except Exception as exc:
        if debug:
            _print_traceback()
        logged = _write_log(exc)
        where = f"; the traceback is in {logged}" if logged else ""
        from mlgit.escape import printable

        print(
            f"mlgit: bug: {type(exc).__name__}: {printable(str(exc), newlines=False)} — this "
            "is a bug in mlgit, "
            f"please report it{where}",
            file=sys.stderr,
        )
        raise SystemExit(EXIT_BUG) from None


def _print_traceback() -> None:
    import traceback

    traceback.print_exc()
