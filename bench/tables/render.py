"""The Table type and its renderers: tidy CSV, Markdown, LaTeX (booktabs) and HTML.

The CSV is tidy and numeric (percent, percentage points, seconds, MiB); Markdown,
LaTeX and HTML are the same table formatted for a paper, with synthetic pairs
marked † and a footnote.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bench.io import write_atomic
from bench.presentation import SYNTHETIC_MARK

LATEX_REPLACEMENTS = {
    "\\": "\\textbackslash{}", "&": "\\&", "%": "\\%", "$": "\\$", "#": "\\#", "_": "\\_",
    "{": "\\{", "}": "\\}", "~": "\\textasciitilde{}", "^": "\\textasciicircum{}",
    "±": "$\\pm$", "—": "---", "–": "--", "−": "$-$", SYNTHETIC_MARK: "\\textsuperscript{\\dag}",
    "×": "$\\times$", ">": "$>$", "<": "$<$",  # OT1 fonts set bare < > as ¡ ¿
    "≥": "$\\geq$", "≤": "$\\leq$",
}


def latex(text: str) -> str:
    """Plain text -> LaTeX text, escaping specials and mapping ± — † to LaTeX."""
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

    def to_latex(self) -> str:
        r"""A booktabs ``tabular`` with its footnotes, in a ``threeparttable``.

        Needs ``\usepackage{booktabs,threeparttable}``; meant for ``\input`` inside the
        paper's own ``table`` environment, which carries the caption (repeated here as a
        comment). threeparttable sets the notes to the table's width.
        """
        columns = len(self.cells.columns) + 1
        head = [latex(self.cells.index.name or "")] + [latex(c) for c in self.cells.columns]
        lines = [f"% {self.caption}", "% needs \\usepackage{booktabs,threeparttable}",
                 "\\begin{threeparttable}", "\\begin{tabular}{l" + "r" * (columns - 1) + "}",
                 "\\toprule", " & ".join(head) + " \\\\", "\\midrule"]
        for label, row in self.cells.iterrows():
            values = [f"\\textbf{{{latex(v)}}}" if b and v else latex(v)
                      for v, b in zip(row, self.bold.loc[label], strict=True)]
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
            "table{border-collapse:collapse}th,td{padding:3px 10px;text-align:right}"
            "th:first-child{text-align:left}thead th{border-bottom:1px solid #000}"
            "table{border-top:2px solid #000;border-bottom:2px solid #000}"
            "p{font-size:12px;margin:4px 0}</style></head><body>"
            f"<p><b>{html.escape(self.caption)}</b></p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f"{notes}</body></html>\n"
        )


def write_table(table: Table, directory: Path) -> list[Path]:
    """Write ``directory/NAME.{csv,md,tex,html}``, each atomically; returns the paths."""
    texts = {"csv": table.data.to_csv(index=False), "md": table.to_markdown(),
             "tex": table.to_latex(), "html": table.to_html()}
    paths = []
    for extension, text in texts.items():
        paths.append(directory / f"{table.name}.{extension}")
        write_atomic(paths[-1], text)
    return paths
