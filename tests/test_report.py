"""The reporters lay out any command's Report the same way."""

from __future__ import annotations

from mlgit.report import FAIL, Report, Table, markdown, text


def report() -> Report:
    return Report(
        command="validate",
        title="mlgit validate",
        status=FAIL,
        summary="2 checks: 1 failed",
        tables=(
            Table("train (35 of 35 checks passed)", ("check", "column"), ()),
            Table("test", ("check", "column"), (("unique", "id|key"),), (FAIL,)),
        ),
        notes=("a note",),
    )


def test_markdown_keeps_the_title_of_an_empty_table_but_no_empty_header() -> None:
    out = markdown.render(report())
    assert "**train (35 of 35 checks passed)**" in out
    assert out.count("| check | column |") == 1  # only the table with rows has a header
    assert "| ❌ | unique | id\\|key |" in out  # pipes in cells are escaped
    assert out.rstrip().endswith("> a note")


def test_text_without_a_terminal_is_plain_and_120_wide() -> None:
    out = text.render(report(), color=False)
    assert "\x1b[" not in out
    assert "✗ mlgit validate: 2 checks: 1 failed" in out
    assert max(len(line) for line in out.splitlines()) <= 120


def test_text_shows_cells_as_written_not_as_markup() -> None:
    report = Report(
        command="profile",
        title="Profile",
        status=FAIL,
        summary="s",
        tables=(
            Table("Columns", ("column", "type"), (("when", "timestamp[ms]"), ("re", "[bold]x"))),
        ),
    )
    out = text.render(report, color=False)
    assert "timestamp[ms]" in out and "[bold]x" in out


def test_written_files_follow_the_umask_and_keep_their_mode(tmp_path) -> None:
    import os
    import stat

    from mlgit.fs import write_atomic

    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "new.md", "x")
        assert stat.S_IMODE((tmp_path / "new.md").stat().st_mode) == 0o644  # not mkstemp's 0600
        (tmp_path / "shared.md").write_text("old")
        (tmp_path / "shared.md").chmod(0o664)
        write_atomic(tmp_path / "shared.md", "new")
        assert stat.S_IMODE((tmp_path / "shared.md").stat().st_mode) == 0o664
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    finally:
        os.umask(old)


def test_markdown_and_junit_keep_data_as_text() -> None:
    import xml.etree.ElementTree as ET

    from mlgit.report import junit

    value = "<b>z</b> **s** a|b `x` & c\x01ol"
    report = Report(
        command="validate",
        title="T",
        status=FAIL,
        summary="s",
        tables=(Table("t", ("value",), ((value,),), (FAIL,)),),
    )
    out = markdown.render(report)
    assert "&lt;b&gt;z&lt;/b&gt; \\*\\*s\\*\\* a\\|b \\`x\\` &amp;" in out  # no HTML, bold, code
    xml = junit.render(report)
    ET.fromstring(xml.split("\n", 1)[1])  # well-formed: the control character is replaced
    assert "None" not in xml
