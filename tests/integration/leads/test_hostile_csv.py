"""`nurture leads import` with hostile files: every row is counted, a malformed row is
rejected with its line, and the rejects file is safe to open in a spreadsheet."""

import csv
import re

from sqlalchemy import select

from nurture.cli import (
    cli,
    leads_cmd,  # noqa: F401  (registers the commands)
)
from nurture.models import Lead
from nurture.platform.db import transaction

HOSTILE = (
    "email,first_name,company\n"
    'ann@example.com,Ann,"Acme\n'  # 2: the quote is closed by a quote on line 4
    "bob@example.com,Bob,Beta\n"
    'cy@example.com,Cy,"Gamma"\n'
    "di@example.com,Di\n"  # 5: one value short
    "ed@example.com,Ed,Delta,surplus\n"  # 6: one value too many
    '=HYPERLINK("http://evil.example"),Eve,Evil\n'  # 7: not an address, and a formula
    "fay@example.com,@Fay,Zeta\n"
    'gus@example.com,Gus,"Eta\n'  # 9: the quote is never closed
    "hal@example.com,Hal,Theta\n"
)


def test_cli_import_of_a_hostile_file_loses_no_row_and_writes_a_formula_safe_rejects_file(
    app, tmp_path
):
    source = tmp_path / "leads.csv"
    source.write_text(HOSTILE, encoding="utf-8")
    rejects = tmp_path / "rejects.csv"

    result = app.test_cli_runner().invoke(
        cli, ["leads", "import", str(source), "--rejects", str(rejects)]
    )

    assert result.exit_code == 0, result.output
    counts = dict(re.findall(r"│ (rows read|created|rejected) +│ +(\d+) │", result.output))
    assert counts == {"rows read": "9", "created": "4", "rejected": "5"}
    with transaction(app.extensions["nurture"].sessions) as session:
        created = dict(session.execute(select(Lead.email, Lead.first_name)).all())
    assert created == {
        "bob@example.com": "Bob",
        "cy@example.com": "Cy",
        "fay@example.com": "@Fay",
        "hal@example.com": "Hal",
    }
    with open(rejects, encoding="utf-8-sig", newline="") as handle:
        rows = {row["_line"]: row for row in csv.DictReader(handle)}
    assert sorted(rows, key=int) == ["2", "5", "6", "7", "9"]
    assert rows["2"]["email"] == "ann@example.com"
    assert "takes in the lines after it" in rows["2"]["_reason"]
    assert (
        rows["5"]["_reason"]
        == "row has 2 value(s) but the header has 3 columns (missing: 'company')"
    )
    assert rows["6"]["_reason"].startswith("row has 1 more value(s)")
    assert rows["7"]["email"] == '\'=HYPERLINK("http://evil.example")'
    assert (
        rows["9"]["_reason"] == 'a quoted value starting on this line is never closed (a missing ")'
    )


def test_a_column_name_that_is_a_formula_is_neutralised_in_the_rejects_file(app, tmp_path):
    source = tmp_path / "leads.csv"
    source.write_text('email,=HYPERLINK("http://evil.example")\nnot-an-address,x\n')
    rejects = tmp_path / "rejects.csv"

    result = app.test_cli_runner().invoke(
        cli, ["leads", "import", str(source), "--rejects", str(rejects)]
    )

    assert result.exit_code == 0, result.output
    with open(rejects, encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle))
    assert header == ["email", '\'=HYPERLINK("http://evil.example")', "_line", "_reason"]
