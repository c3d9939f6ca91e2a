"""The command line: the typer app (app.py), shared options (options.py), one module per command."""
