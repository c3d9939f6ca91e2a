"""Binding Update sequence numbers compared modulo 2**16 (RFC 6275 9.5.1)."""

from __future__ import annotations

SEQ_MODULUS = 1 << 16  # RFC 6275 9.5.1: sequence numbers are compared modulo 2**16
SEQ_HALF_WINDOW = 1 << 15  # ... "the preceding 32768 values, inclusive" are not greater


def seq_greater(new: int, last: int) -> bool:
    """RFC 6275 9.5.1: ``new`` is greater than ``last`` modulo 2**16, i.e. it is not
    ``last`` nor one of the 32768 values before it."""
    return 0 < (new - last) % SEQ_MODULUS < SEQ_HALF_WINDOW
