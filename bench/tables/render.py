"""The Table type and its renderers: tidy CSV, Markdown, LaTeX (booktabs) and HTML.

The CSV is tidy and numeric (percent, percentage points, seconds, MiB); Markdown,
LaTeX and HTML are the same table formatted for a paper, with synthetic pairs
marked † and a footnote. LaTeX comes in two styles (``LATEX_STYLES``): ``booktabs``,
right-aligned text columns, and ``siunitx``, S columns that align the decimal points
and set "84.3 ± 2.1" as a number with its uncertainty; either one transposed on request
(the columns as rows: strategies down the side, narrow enough for one column of a
two-column paper when there are few pairs).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bench.io import write_atomic
from bench.presentation import LABEL_SPACE_MARK, SYNTHETIC_MARK

LATEX_REPLACEMENTS = {
    "\\": "\\textbackslash{}", "&": "\\&", "%": "\\%", "$": "\\$", "#": "\\#", "_": "\\_",
    "{": "\\{", "}": "\\}", "~": "\\textasciitilde{}", "^": "\\textasciicircum{}",
    "±": "$\\pm$", "—": "---", "–": "--", "−": "$-$", SYNTHETIC_MARK: "\\textsuperscript{\\dag}",
    LABEL_SPACE_MARK: "\\textsuperscript{\\ddag}",
    "×": "$\\times$", ">": "$>$", "<": "$<$",  # OT1 fonts set bare < > as ¡ ¿
    "≥": "$\\geq$", "≤": "$\\leq$",
}


LATEX_STYLES = ("booktabs", "siunitx")
# A cell siunitx reads as a number: "84.3", "−4.1 ± 2.0", then marks it sets after it
# ("*", " ‡").
NUMBER_CELL = re.compile(r"^(?P<mean>[+−-]?\d+(?:\.\d+)?)(?: ± (?P<uncertainty>\d+(?:\.\d+)?))?"
                         rf"(?P<after>[*†]*(?: ?{LABEL_SPACE_MARK})?)$")


def latex(text: str) -> str:
    """Plain text -> LaTeX text, escaping specials and mapping ± — † ‡ to LaTeX."""
    return "".join(LATEX_REPLACEMENTS.get(char, char) for char in text)


def _markdown(text: str) -> str:
    """Escape the characters a pipe table would read as markup."""
    return text.replace("|", "\\|").replace("*", "\\*")


@dataclass
class Table:
    """A paper table: tidy numbers for CSV, and the formatted grid for MD/LaTeX/HTML.

    Attributes:
        name: the file stem (``tables/NAME.*``).
        caption: one line, above the table.
        data: the tidy, numeric rows written as CSV.
        cells: display strings; row labels in the index, column labels as columns.
        bold: a boolean frame shaped like ``cells``: which cells are set in bold.
        notes: footnotes, under the table.
    """

    name: str
    caption: str
    data: pd.DataFrame
    cells: pd.DataFrame
    bold: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def to_markdown(self) -> str:
        """A pipe table with the caption in bold above it and the notes under it."""
        grid = self.cells.copy()
        for column in grid.columns:
            grid[column] = [f"**{_markdown(v)}**" if b and v else _markdown(v)
                            for v, b in zip(grid[column], self.bold[column], strict=True)]
        grid.index = [_markdown(str(i)) for i in grid.index]
        grid.index.name = _markdown(self.cells.index.name or "")
        # disable_numparse: cells print as formatted ("10.0"), not re-read as numbers ("10")
        lines = [f"**{_markdown(self.caption)}**", "", grid.to_markdown(disable_numparse=True),
                 ""]
        return "\n".join(lines + [_markdown(note) + "  " for note in self.notes]).rstrip() + "\n"

    def to_latex(self, style: str = "booktabs", transpose: bool = False) -> str:
        r"""A booktabs ``tabular`` with its footnotes, in a ``threeparttable``.

        Needs ``\usepackage{booktabs,threeparttable}`` (and ``siunitx`` for that style);
        meant for ``\input`` inside the paper's own ``table`` environment, which carries
        the caption (repeated here as a comment). threeparttable sets the notes to the
        table's width.

        Args:
            style: ``booktabs`` (text columns) or ``siunitx`` (S columns: decimals
                aligned, "mean ± half-width" as a number with a separate uncertainty).
            transpose: the columns as rows (e.g. strategies down the side).
        """
        cells, bold = (self.cells.T, self.bold.T) if transpose else (self.cells, self.bold)
        corner = (self.cells.columns.name if transpose else self.cells.index.name) or ""
        numeric = style == "siunitx"
        specs = [_siunitx_spec(cells[c]) if numeric else "r" for c in cells.columns]
        head = [latex(corner)] + [_header(c, spec) for c, spec in zip(cells.columns, specs,
                                                                      strict=True)]
        lines = [f"% {self.caption}",
                 f"% needs \\usepackage{{{'booktabs,threeparttable' + (',siunitx' if numeric else '')}}}",
                 "\\begin{threeparttable}"]
        if numeric:  # inside the threeparttable's group: the paper's own settings stay
            lines.append("\\sisetup{separate-uncertainty, detect-weight, mode=text}")
        lines += ["\\begin{tabular}{l" + "".join(specs) + "}", "\\toprule",
                  " & ".join(head) + " \\\\", "\\midrule"]
        for label, row in cells.iterrows():
            values = [_latex_cell(v, b, spec) for v, b, spec in zip(row, bold.loc[label], specs,
                                                                    strict=True)]
            lines.append(" & ".join([latex(str(label))] + values) + " \\\\")
        lines += ["\\bottomrule", "\\end{tabular}"]
        if self.notes:
            lines += ["\\begin{tablenotes}\\footnotesize",
                      *[f"\\item {latex(note)}" for note in self.notes], "\\end{tablenotes}"]
        lines.append("\\end{threeparttable}")
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        """A self-contained HTML page (for the Snakemake report)."""
        head = "".join(f"<th>{html.escape(str(c))}</th>"
                       for c in [self.cells.index.name or "", *self.cells.columns])
        rows = []
        for label, row in self.cells.iterrows():
            values = [f"<td><b>{html.escape(v)}</b></td>" if b and v
                      else f"<td>{html.escape(v)}</td>"
                      for v, b in zip(row, self.bold.loc[label], strict=True)]
            rows.append(f"<tr><th>{html.escape(str(label))}</th>{''.join(values)}</tr>")
        notes = "".join(f"<p>{html.escape(note)}</p>" for note in self.notes)
        return (
            "<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(self.caption)}</title><style>"
            "body{font-family:sans-serif;font-size:14px}"
            # nowrap: a narrow window must not break "67.3 ±" from "13.0"
            "table{border-collapse:collapse}"
            "th,td{padding:3px 10px;text-align:right;white-space:nowrap}"
            "th:first-child{text-align:left}thead th{border-bottom:1px solid #000}"
            "table{border-top:2px solid #000;border-bottom:2px solid #000}"
            "p{font-size:12px;margin:4px 0}</style></head><body>"
            f"<p><b>{html.escape(self.caption)}</b></p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f"{notes}</body></html>\n"
        )


def _siunitx_spec(column: pd.Series) -> str:
    """``S[table-format=...]`` sized to the column's numbers; ``r`` where it has none."""
    matches = [m for m in map(NUMBER_CELL.match, column) if m]
    if not matches:
        return "r"

    def digits(numbers: list[str]) -> str:
        whole = max(len(n.lstrip("+−-").split(".")[0]) for n in numbers)
        decimals = max(len(n.split(".")[1]) if "." in n else 0 for n in numbers)
        return f"{whole}.{decimals}"
    means = [m["mean"] for m in matches]
    sign = "+" if any(n[0] in "+−-" for n in means) else ""
    uncertainties = [m["uncertainty"] for m in matches if m["uncertainty"]]
    spread = f"({digits(uncertainties)})" if uncertainties else ""
    after = max((m["after"] for m in matches), key=len, default="")
    space = f", table-space-text-post={{{latex(after)}}}" if after else ""
    return f"S[table-format={sign}{digits(means)}{spread}{space}]"


def _header(column, spec: str) -> str:
    """A column's heading; braced over an S column, which would read it as a number."""
    text = latex(str(column))
    return f"{{{text}}}" if spec.startswith("S") else text


def _latex_cell(value: str, bold: bool, spec: str) -> str:
    r"""One cell: in an S column a number siunitx parses, or braced text; elsewhere text.

    Bold in an S column is ``\bfseries`` before the number, which siunitx's
    ``detect-weight`` picks up (``\textbf`` would hide the number from it).
    """
    match = NUMBER_CELL.match(value) if spec.startswith("S") else None
    if not match:
        text = latex(value)
        text = f"\\textbf{{{text}}}" if bold and value else text
        return f"{{{text}}}" if spec.startswith("S") else text
    number = match["mean"].replace("−", "-")
    if match["uncertainty"]:
        number += f" \\pm {match['uncertainty']}"
    if match["after"]:
        number += f"{{{latex(match['after'])}}}"
    return f"\\bfseries {number}" if bold else number


def write_table(table: Table, directory: Path, latex_style: str = "booktabs",
                transpose: bool = False) -> list[Path]:
    """Write ``directory/NAME.{csv,md,tex,html}``, each atomically; returns the paths.

    Args:
        table: the table.
        directory: where the files go.
        latex_style: the ``.tex`` file's style (:meth:`Table.to_latex`).
        transpose: the ``.tex`` file's columns as rows.
    """
    texts = {"csv": table.data.to_csv(index=False), "md": table.to_markdown(),
             "tex": table.to_latex(latex_style, transpose), "html": table.to_html()}
    paths = []
    for extension, text in texts.items():
        paths.append(directory / f"{table.name}.{extension}")
        write_atomic(paths[-1], text)
    return paths
