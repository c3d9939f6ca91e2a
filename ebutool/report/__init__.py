"""Output formats behind one interface: :func:`write_table` chooses by :class:`OutputFormat`."""
from .formats import OutputFormat, render_table, write_table

__all__ = ["OutputFormat", "render_table", "write_table"]
