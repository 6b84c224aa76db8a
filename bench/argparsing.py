"""The house style of every command line of bench: defaults in the help, one-line errors.

A leaf (argparse only), so that :mod:`bench.cli` and the commands it hands over to
(``compare``, ...) share it without importing each other.
"""

from __future__ import annotations

import argparse


class HelpFormatter(argparse.HelpFormatter):
    """Help that shows each option's default, and keeps the examples' line breaks.

    argparse's ArgumentDefaultsHelpFormatter would print "(default: None)" for required
    options and flags; here only a default that means something is shown, and a help
    text that says its default itself is left as it is. A description or epilog written
    with line breaks (examples) is kept as written; one written as one line is wrapped.
    """

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        # Identity, not `in`: a default of 0 equals False and is worth showing.
        unset = any(action.default is value for value in (None, False, argparse.SUPPRESS))
        if (action.required or unset or action.default == [] or "%(default)" in text
                or "default:" in text):
            return text
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line on stderr, exit status 2."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        """Print ``PROG: error: MESSAGE (see PROG --help)`` and exit 2."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")
