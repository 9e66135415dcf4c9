"""JUnit XML for CI test views: one <testsuite> per table, one <testcase> per row."""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

from mlgit.escape import printable
from mlgit.report.tables import Report
from mlgit.status import FAIL, SKIP, WARN

# characters XML 1.0 cannot hold at all (ElementTree would write them and break the file)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: object) -> str:
    return _NOT_XML.sub("\ufffd", printable("—" if value is None else str(value)))


def render(report: Report, color: bool = False) -> str:
    suites = ET.Element("testsuites", name=f"mlgit {report.command}")
    for table in report.tables:
        statuses = table.status or ("",) * len(table.rows)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=_text(table.title or report.title),
            tests=str(len(table.rows)),
            failures=str(sum(s == FAIL for s in statuses)),
            skipped=str(sum(s == SKIP for s in statuses)),
        )
        for row, status in zip(table.rows, statuses, strict=True):
            details = _text(
                "; ".join(f"{c}={_text(v)}" for c, v in zip(table.columns, row, strict=False))
            )
            name = _text(" ".join(str(v) for v in row[:2] if v not in (None, "")))
            case = ET.SubElement(suite, "testcase", classname=f"mlgit.{report.command}", name=name)
            if status == FAIL:
                ET.SubElement(case, "failure", message=details).text = details
            elif status == SKIP:
                ET.SubElement(case, "skipped", message=details)
            elif status == WARN:
                ET.SubElement(case, "system-out").text = f"warning: {details}"
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )
