"""Shared basics: addresses, units, protocol constants, errors, diagnostics, run-time policy."""
