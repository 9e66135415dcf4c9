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


def _registry_like(history: bool = False) -> Report:
    note = "promoted after the nightly evaluation passed every gate on the holdout split"
    tables = [
        Table(
            "Models",
            ("model", "latest", "tag", "note"),
            (
                ("text-classification", "v1.0.0", "text-classification@v1.0.0", note),
                ("churn", "v12.3.4", "churn@v12.3.4#production#3", "short"),
            ),
        )
    ]
    if history:
        tables.append(
            Table(
                "History",
                ("time", "tag", "action", "version", "stage", "author", "reason"),
                (
                    (
                        "2024-01-02T03:04:05+00:00",
                        "text-classification@v1.0.0",
                        "register",
                        "v1.0.0",
                        None,
                        "Jane Developer <jane@example.com>",
                        note,
                    ),
                ),
                ("ok",),
            )
        )
    return Report("registry", "mlgit registry", "ok", "2 model(s)", tuple(tables))


def _terminal_text(monkeypatch, columns: int, report: Report) -> list[str]:
    import re

    from rich.cells import cell_len

    monkeypatch.setenv("COLUMNS", str(columns))
    lines = re.sub(r"\x1b\[[0-9;]*m", "", text.render(report, color=True)).splitlines()
    assert max(cell_len(line) for line in lines) <= columns  # nothing beyond the terminal
    return lines


def test_text_at_80_and_120_columns_keeps_tags_and_words_whole(monkeypatch) -> None:
    for columns in (80, 120):
        lines = _terminal_text(monkeypatch, columns, _registry_like())
        out = "\n".join(lines)
        assert "text-classification@v1.0.0" in out and "churn@v12.3.4#production#3" in out
        words = "promoted after the nightly evaluation passed every gate on the holdout split"
        assert all(f" {word} " in out for word in words.split())  # whole, none cropped
        assert "v12.3.4" in out and "text-classification " in out
    # a terminal wide enough for every cell on one line: laid out as before, one row a line
    lines = _terminal_text(monkeypatch, 200, _registry_like())
    assert any("text-classification@v1.0.0 │ promoted after the nightly" in x for x in lines)


def test_text_too_narrow_for_every_word_folds_prose_first_and_crops_nothing(monkeypatch) -> None:
    report = _registry_like(history=True)
    cells = [c for table in report.tables for row in table.rows for c in row if c]
    for columns in (60, 80, 120):
        lines = _terminal_text(monkeypatch, columns, report)
        body = "".join("".join(lines).split())
        for char in set("".join(cells)) - {" "}:  # every character of every cell is shown
            wanted = sum(c.count(char) for c in cells)
            assert body.count(char) >= wanted, (columns, char)
    out = "\n".join(_terminal_text(monkeypatch, 120, report))  # the author is folded, not tags
    assert out.count("text-classification@v1.0.0") == 2 and "2024-01-02T03:04:05+00:00" in out
