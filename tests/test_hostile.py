"""Repository content from a pull request is not trusted: hostile YAML, special files behind
names, and control characters must end in a one-line exit 2 or escaped text, within a memory
limit (a subprocess under `resource.setrlimit`, so a regression fails instead of taking the
machine)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

MEMORY_LIMIT = 1536 << 20  # address space: the interpreter and its imports fit well below it

BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""

LIMITED = """\
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from mlgit.cli import main
sys.argv = ["mlgit", *{args!r}]
main()
"""


def limited_mlgit(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The real CLI in a process that cannot grow past MEMORY_LIMIT."""
    code = LIMITED.format(limit=MEMORY_LIMIT, args=list(args))
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "DVC_NO_ANALYTICS": "1"},
        check=False,
    )


def one_line_error(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlgit: error: "), proc.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (BOMB, ("aliases expand it",)),
        ("a: &a\n  - *a\n", ("recursive alias",)),
        ("x: " + "[" * 5000 + "]" * 5000 + "\n", ("nested deeper",)),
        ("".join(" " * i + "k:\n" for i in range(100)) + " " * 100 + "z: 1\n", ("nested deeper",)),
        ("".join(" " * i + "k:\n" for i in range(1200)) + " " * 1200 + "z: 1\n", ("YAML",)),
    ],
    ids=["billion-laughs", "recursive-alias", "deep-flow", "deep-block", "deeper-than-libyaml"],
)
def test_hostile_yaml_is_a_one_line_error(tmp_path: Path, text: str, words: tuple[str]) -> None:
    (tmp_path / "mlgit.yaml").write_text(text, encoding="utf-8")
    one_line_error(limited_mlgit(tmp_path, "check-config", "mlgit.yaml"), "mlgit.yaml", *words)


def test_a_huge_yaml_file_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    big = tmp_path / "mlgit.yaml"
    with big.open("w", encoding="utf-8") as out:
        out.write("version: 1\nnotes: |\n")
        for _ in range(200_000):
            out.write("  " + "x" * 60 + "\n")
    one_line_error(limited_mlgit(tmp_path, "check-config", "mlgit.yaml"), "bytes")


@pytest.mark.parametrize("kind", ["fifo", "directory", "device"])
def test_a_config_that_is_not_a_regular_file(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "elsewhere"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "directory":
        target.mkdir()
    else:
        target = Path("/dev/zero")  # endless: reading it whole would take all memory
    (tmp_path / "mlgit.yaml").symlink_to(target)
    proc = limited_mlgit(tmp_path, "check-config", timeout=60)  # finds mlgit.yaml itself
    one_line_error(proc, "mlgit.yaml")


def test_control_characters_are_escaped_in_text_and_markdown(tmp_path: Path) -> None:
    from mlgit.report import formats
    from mlgit.report.tables import Report, Table

    evil = "x\x1b]0;owned\x07\x1b[2J\r@octocat \u202egnp.exe"
    report = Report(
        command="validate",
        title=f"title {evil}",
        status="fail",
        summary=f"summary {evil}",
        tables=(Table(f"table {evil}", ("column",), ((evil,),), ("fail",)),),
        notes=(f"note {evil}",),
    )
    for name in ("text", "markdown", "junit"):
        out = formats()[name](report, False)
        for char in ("\x1b", "\x07", "\r", "\u202e"):
            assert char not in out, (name, char)
        assert "\\x1b" in out
    markdown = formats()["markdown"](report, False)
    assert "@octocat" not in markdown and "@\u200boctocat" in markdown
    out = formats()["json"](Report("validate", "t", "ok", "s", data={"value": evil + "\x9b"}))
    assert not any(c in out for c in ("\x1b", "\x07", "\r", "\u202e", "\x9b"))
    assert json.loads(out)["value"] == evil + "\x9b"  # escaped, the value itself unchanged


def test_an_error_message_carries_no_control_characters(tmp_path: Path) -> None:
    name = "data\x1b[31m.parquet"
    proc = limited_mlgit(tmp_path, "schema", "infer", name)
    assert proc.returncode == 2 and "\x1b" not in proc.stderr and "\\x1b" in proc.stderr
