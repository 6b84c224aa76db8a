"""Table.to_latex in both styles, plain and transposed: structure, and that it compiles."""

from __future__ import annotations

import re
import shutil
import subprocess

import pandas as pd
import pytest
from test_aggregate import label_space_records, sweep_records

from bench.summary import summary_frame
from bench.tables.paper import build_tables, ntg_table
from bench.tables.render import LATEX_STYLES, Table

VARIANTS = [(style, transpose) for style in LATEX_STYLES for transpose in (False, True)]


@pytest.fixture(scope="module")
def tables() -> list[Table]:
    return build_tables(summary_frame(sweep_records(seeds=(0, 1, 2))))


def _special_table() -> Table:
    """Pairs x strategies with every kind of cell: interval, signed, starred, bold, text."""
    cells = pd.DataFrame({"A_1 & co": ["84.3 ± 2.1", "−4.0 ± 12.5*", "—"],
                          "B%": ["7.00", "9.2 ± —", "6/6"]},
                         index=pd.Index(["p#1", "q_2†", "Mean"], name="Pair"))
    bold = pd.DataFrame({"A_1 & co": [True, False, False], "B%": [False, True, False]},
                        index=cells.index)
    return Table("t", "Caption", pd.DataFrame(), cells, bold, ["50% of ~all_runs"])


def _rows(text: str) -> list[list[str]]:
    """The tabular's body rows, split into cells (the heading first)."""
    body = text.split("\\toprule\n")[1].split("\\bottomrule")[0]
    return [line.removesuffix(" \\\\").split(" & ") for line in body.splitlines()
            if line != "\\midrule"]


@pytest.mark.parametrize(("style", "transpose"), VARIANTS)
def test_latex_layout(style, transpose):
    text = _special_table().to_latex(style, transpose)
    spec = re.search(r"\\begin\{tabular\}\{(.*)\}\n", text)[1]
    rows = _rows(text)
    assert len(rows) == 1 + (2 if transpose else 3)
    assert all(len(row) == (4 if transpose else 3) for row in rows)
    columns = re.findall(r"S\[[^\]]*\]|[lr]", spec)
    assert len(columns) == len(rows[0]) and columns[0] == "l"
    if transpose:
        assert [row[0] for row in rows[1:]] == ["A\\_1 \\& co", "B\\%"]
    else:
        assert [row[0] for row in rows[1:]] == ["p\\#1", "q\\_2\\textsuperscript{\\dag}", "Mean"]
    assert "\\item 50\\% of \\textasciitilde{}all\\_runs" in text
    if style == "booktabs":
        assert set(columns[1:]) == {"r"} and "\\textbf{84.3 $\\pm$ 2.1}" in text
    else:
        signed = ("S[table-format=+1.1(2.1), table-space-text-post={*}]" if transpose
                  else "S[table-format=+2.1(2.1), table-space-text-post={*}]")
        assert signed in columns
        assert ("r" in columns) == transpose  # transposed, Mean ("—", "6/6") is text only
        assert "\\bfseries 84.3 \\pm 2.1" in text and "-4.0 \\pm 12.5{*}" in text
        assert "{\\textbf{9.2 $\\pm$ ---}}" in text  # not a number: braced text
        assert ("& 6/6" if transpose else "& {6/6}") in text  # braced in an S column only


def _marked_table() -> Table:
    """The NTG table with DAN marked ‡ on a pair whose label spaces differ."""
    table = ntg_table(summary_frame(label_space_records()))
    table.name = "marked"
    return table


def test_label_space_mark_is_set_after_the_number_in_an_s_column():
    text = _marked_table().to_latex("siunitx")
    assert "table-space-text-post={ \\textsuperscript{\\ddag}}" in text
    assert re.search(r"& -?\d+\.\d \\pm \d+\.\d\{ \\textsuperscript\{\\ddag\}\} \\\\", text)


@pytest.mark.skipif(not shutil.which("pdflatex"), reason="no pdflatex")
@pytest.mark.parametrize(("style", "transpose"), VARIANTS)
def test_latex_compiles(style, transpose, tables, tmp_path):
    body = "\n".join(f"\\begin{{table*}}\\input{{{t.name}}}\\end{{table*}}" for t in tables)
    tables = [*tables, _marked_table()]
    for table in [*tables, _special_table()]:
        (tmp_path / f"{table.name}.tex").write_text(table.to_latex(style, transpose))
    (tmp_path / "paper.tex").write_text(
        "\\documentclass{article}\\usepackage[margin=1cm]{geometry}"
        "\\usepackage{booktabs,threeparttable,siunitx}\\begin{document}"
        f"{body}\\input{{t}}\\end{{document}}\n")
    result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                             "paper.tex"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "siunitx error" not in result.stdout.lower()


def test_aggregate_writes_the_latex_style_asked_for(tmp_path):
    from test_aggregate import write_records

    from bench import aggregate

    write_records(tmp_path / "runs", sweep_records(seeds=(0, 1)))
    aggregate.main(["--latex", "siunitx", "--transpose", "--out-dir", str(tmp_path),
                    str(tmp_path / "runs")])
    text = (tmp_path / "tables" / "accuracy.tex").read_text()
    assert "S[table-format=" in text
    assert _rows(text)[1][0] == "Scratch"  # transposed: strategies down the side
