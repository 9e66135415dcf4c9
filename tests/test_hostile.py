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

    evil = "x\x1b]0;owned\x07\x1b[2J\r@octocat \u202egnp.exe\u2028fake line"
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
        for char in ("\x1b", "\x07", "\r", "\u202e", "\u2028"):
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


def _parquet(path: Path, values: list[int]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"x": values}), path)
    return path


@pytest.mark.parametrize("where", ["dotdot", "absolute", "symlink"])
def test_mlgit_yaml_may_not_name_files_outside_the_repository(project, where: str) -> None:
    secret = _parquet(project.root.parent / "secret" / "s.parquet", [1, 2, 3])
    path = {"dotdot": "../secret/s.parquet", "absolute": str(secret)}.get(where, "data/s.parquet")
    if where == "symlink":
        (project.root / "data").mkdir()
        (project.root / "data" / "s.parquet").symlink_to(secret)
    project.configure(f"datasets:\n  s:\n    path: {path}\n")
    for command in (("check-config",), ("validate", "s"), ("profile", "s", "-o", "p.json")):
        result = project.mlgit(*command)
        assert result.exit_code == 2, (command, result.output)
        assert "outside the repository" in result.stderr and "mlgit.yaml" in result.stderr


def test_a_link_inside_a_dataset_directory_is_not_followed_out(project) -> None:
    secret = _parquet(project.root.parent / "secret" / "s.parquet", [7, 7, 7])
    _parquet(project.root / "data" / "parts" / "a.parquet", [1, 2])
    (project.root / "data" / "parts" / "b.parquet").symlink_to(secret)
    project.write("schema.yaml", "fields:\n  - {name: x, type: integer}\n")
    project.configure("datasets:\n  parts:\n    path: data/parts\n    schema: schema.yaml\n")
    result = project.mlgit("validate", "parts")
    assert result.exit_code == 2 and "b.parquet is a link" in result.stderr, result.output
    own = project.mlgit("validate", str(secret), "--schema", str(project.root / "schema.yaml"))
    assert own.exit_code == 0, own.output  # a path the user types is theirs to choose


def test_the_cache_honours_mlgit_cache_dir(project, tmp_path: Path, monkeypatch) -> None:
    _parquet(project.root / "d.parquet", [1, 2])
    project.write("schema.yaml", "fields:\n  - {name: x, type: integer}\n")
    monkeypatch.setenv("MLGIT_CACHE_DIR", str(tmp_path / "mine"))
    assert project.mlgit("validate", "d.parquet", "--schema", "schema.yaml").exit_code == 0
    assert list((tmp_path / "mine" / "validate").glob("*.json"))


def test_the_next_write_removes_what_a_killed_writer_left(tmp_path: Path) -> None:
    from mlgit.fs import write_atomic

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    orphan = tmp_path / f".report.md.{dead}.abc123.md"
    orphan.write_text("half")
    unrelated = tmp_path / ".report.md.notapid.md"
    unrelated.write_text("keep")
    write_atomic(tmp_path / "report.md", "whole")
    assert not orphan.exists() and unrelated.exists()
    assert (tmp_path / "report.md").read_text() == "whole"


def test_a_dataset_without_schema_is_a_warning_of_validate_all(project) -> None:
    _parquet(project.root / "d.parquet", [1, 2])
    _parquet(project.root / "images.parquet", [3])
    project.write("schema.yaml", "fields:\n  - {name: x, type: integer}\n")
    project.configure(
        "datasets:\n  d:\n    path: d.parquet\n    schema: schema.yaml\n"
        "  images:\n    path: images.parquet\n"
    )
    assert project.mlgit("check-config").exit_code == 0
    result = project.mlgit("validate", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [d["dataset"] for d in data["datasets"]] == ["d"]
    assert any("images has no schema" in w for w in data["warnings"])
    named = project.mlgit("validate", "images")
    assert named.exit_code == 2 and "no `schema:`" in named.stderr  # asked for by name


def test_commands_that_need_no_schema_do_not_parse_them(project) -> None:
    _parquet(project.root / "d.parquet", [1, 2])
    project.write("schema.yaml", "fields: [oops\n")  # not even YAML
    project.configure(
        "datasets:\n  d:\n    path: d.parquet\n    schema: schema.yaml\n    reference: ref.json\n"
    )
    assert project.mlgit("profile", "d").exit_code == 0
    assert project.mlgit("check-config").exit_code == 2  # check-config reads every schema
    assert project.mlgit("validate", "d").exit_code == 2


@pytest.mark.parametrize("kind", ["device", "fifo", "directory", "outside"])
@pytest.mark.parametrize("cache", [True, False])
def test_a_custom_check_behind_a_hostile_link(tmp_path: Path, kind: str, cache: bool) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    _parquet(tmp_path / "d.parquet", [1, 2])
    target = {"device": Path("/dev/zero"), "outside": Path("/etc/hostname")}.get(kind)
    if kind == "fifo":
        target = tmp_path / "pipe"
        os.mkfifo(target)
    elif kind == "directory":
        target = tmp_path / "somedir"
        target.mkdir()
    (tmp_path / "rules.py").symlink_to(target)
    (tmp_path / "schema.yaml").write_text(
        "fields:\n  - {name: x, type: integer}\n"
        "expectations:\n  - {expect: custom, function: 'rules.py:check'}\n"
    )
    args = ["validate", "d.parquet", "--schema", "schema.yaml", *([] if cache else ["--no-cache"])]
    proc = limited_mlgit(tmp_path, *args, timeout=60)
    one_line_error(proc, "rules.py")


def test_csv_lines_longer_than_the_read_block(tmp_path: Path) -> None:
    from mlgit.data.infer import infer_schema
    from mlgit.data.io import iter_batches, open_source

    long_row = tmp_path / "long.csv"
    long_row.write_text("a,b\n" + "1,x\n" * 10 + "2," + "y" * (5 << 20) + "\n" + "3,z\n")
    batches = list(iter_batches(open_source(long_row)))
    assert sum(b.num_rows for b in batches) == 12
    assert [v for b in batches for v in b.column("a").to_pylist()] == [1] * 10 + [2, 3]
    wide_header = tmp_path / "header.csv"
    wide_header.write_text("a," + "b" * (3 << 20) + "\n1,2\n")
    schema = infer_schema(open_source(wide_header))
    assert [f.name for f in schema.fields] == ["a", "b" * (3 << 20)]


def test_rerunning_an_interrupted_track_finishes_it(project) -> None:
    _parquet(project.root / "data" / "t.parquet", [1, 2, 3])
    project.sh("dvc", "add", "-q", "data/t.parquet")  # where a killed `mlgit track` stops
    result = project.mlgit("track", "data/t.parquet")
    assert result.exit_code == 0, result.output
    assert "resumed" in result.stdout and "interrupted" in result.stdout
    assert "data/t.parquet" in (project.root / "mlgit.yaml").read_text()
    assert (project.root / "schemas" / "t.schema.yaml").exists()
    again = project.mlgit("track", "data/t.parquet")
    assert again.exit_code == 0 and "resumed" not in again.stdout


def test_json_lines_errors_name_the_line_an_editor_shows(tmp_path: Path) -> None:
    (tmp_path / "bad.jsonl").write_text('{"a": 1}\n\n{"a": 2}\n{"a": oops}\n')
    (tmp_path / "s.yaml").write_text("fields:\n  - {name: a, type: integer}\n")
    proc = limited_mlgit(tmp_path, "validate", "bad.jsonl", "--schema", "s.yaml")
    one_line_error(proc, "bad.jsonl:4:", "JSON parse error")
