"""The paper's tables: one :class:`~bench.tables.render.Table` type, written in four formats.

The formats: CSV, Markdown, LaTeX (booktabs) and HTML.

- :mod:`bench.tables.render`: the Table type, its renderers and ``write_table``;
- :mod:`bench.tables.cells`: the text of a cell (mean ± interval, run counts) and the notes;
- :mod:`bench.tables.significance`: which accuracy cells are bold (the best and those not
  significantly worse, paired by seed; nothing at chance) and the notes that say so;
- :mod:`bench.tables.paper`: the four tables of the main sweep.
"""
