"""Output formats behind one interface: :func:`render_table` / :func:`render_bytes`
choose by :class:`OutputFormat`; writing is the CLI's (``ebutool.cli.options.write_table``).

:class:`OutputFormat` comes without pandas (the command line's ``--help`` and shell
completion list it); the renderers, which need pandas, are imported on first use."""

from __future__ import annotations

from typing import Any

from ebutool.report.output_format import OutputFormat, RenderOptions

__all__ = ["OutputFormat", "RenderOptions", "render_bytes", "render_table"]


def __getattr__(name: str) -> Any:
    if name in ("render_bytes", "render_table"):
        from ebutool.report import formats

        return getattr(formats, name)
    raise AttributeError(f"module 'ebutool.report' has no attribute {name!r}")
