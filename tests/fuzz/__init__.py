"""Fuzzing: tests/fuzz/harness.py (mutation, a fork per run), run.py (the command line),
atheris_decoders.py (coverage-guided), regressions/ (every crash found).  docs/fuzzing.md."""
