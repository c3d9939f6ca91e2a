"""Output formats behind one interface: :func:`render_table` / :func:`render_bytes`
choose by :class:`OutputFormat`; writing is the CLI's (cli/options.write_table)."""

from ebutool.report.formats import OutputFormat, render_bytes, render_table

__all__ = ["OutputFormat", "render_bytes", "render_table"]
