"""The one vocabulary of outcomes, for check results, gates, signals, table rows and whole
reports: text marks and colours them, junit turns FAIL into <failure>, and a report whose status
is FAIL exits 1. Domain verdicts that say more (drift's "drift" and "new") map onto these in
their report layout."""

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
STATUSES = (OK, WARN, FAIL, SKIP)
