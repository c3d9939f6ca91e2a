"""Mutations of a capture or a trace: generic ones (bit flips, insertion, deletion,
truncation, duplication) and, for captures, a new value in one length, type or time
field (tests/fuzz/fields.py) chosen among the interesting ones (0, 1, the maximum,
off by one, a huge time).  JSON Lines traces also get line- and value-level mutations."""

from __future__ import annotations

import random
import re

from tests.fuzz.fields import capture_fields

INTERESTING_BYTES = (0x00, 0x01, 0x02, 0x07, 0x08, 0x0F, 0x10, 0x3F, 0x40, 0x7F, 0x80, 0xFE, 0xFF)
HUGE_TIMES = (0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFFFFFFFFFF, 0x7FFFFFFFFFFFFFFF)
_NUMBER = re.compile(rb"-?\d+(\.\d+)?")


def mutate(data: bytes, rng: random.Random) -> tuple[bytes, list[str]]:
    """``data`` with one to three mutations; the names of those applied."""
    done: list[str] = []
    jsonl = data[:1] == b"{"
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        if jsonl and rng.random() < 0.5:
            data, name = _jsonl(data, rng)
        elif not jsonl and rng.random() < 0.6:
            data, name = _field(data, rng)
        else:
            data, name = _generic(data, rng)
        done.append(name)
    return data, done


def _generic(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    buf = bytearray(data)
    if not buf:
        return bytes(rng.randbytes(rng.randint(1, 64))), "random"
    i = rng.randrange(len(buf))
    kind = rng.choice(("flip", "flip", "byte", "insert", "delete", "truncate", "duplicate"))
    if kind == "flip":
        for _ in range(rng.randint(1, 8)):
            j = rng.randrange(len(buf))
            buf[j] ^= 1 << rng.randrange(8)
    elif kind == "byte":
        buf[i] = rng.choice(INTERESTING_BYTES)
    elif kind == "insert":
        buf[i:i] = rng.randbytes(rng.choice((1, 2, 4, 8, 16, 100)))
    elif kind == "delete":
        del buf[i : i + rng.choice((1, 2, 4, 8, 16, 100))]
    elif kind == "truncate":
        del buf[i:]
    else:
        j = min(len(buf), i + rng.randint(1, 512))
        buf[j:j] = buf[i:j] * rng.randint(1, 4)
    return bytes(buf), kind


def _field(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    fields = capture_fields(data)
    if not fields:
        return _generic(data, rng)
    f = rng.choice(fields)
    if f.offset + f.size > len(data):
        return _generic(data, rng)
    old = int.from_bytes(data[f.offset : f.offset + f.size], f.order)
    top = (1 << (8 * f.size)) - 1
    choices = [0, 1, top, top - 1, old + 1, old - 1, old * 2, old // 2, rng.randint(0, top)]
    if f.kind == "ts":
        choices += [t & top for t in HUGE_TIMES] + [0x7F, 0x80 | 63, 0xFF, 9, 0x40]
    if f.kind == "len":
        choices += [old + 8, old - 8, 0xFFFF & top, 0x10000 & top, 0x7FFFFFFF & top]
    if f.kind == "type":
        choices += list(INTERESTING_BYTES) + [old ^ 1, 135, 60, 43, 41, 50, 59, 17, 58]
    new = rng.choice(choices) & top
    buf = bytearray(data)
    buf[f.offset : f.offset + f.size] = new.to_bytes(f.size, f.order)
    return bytes(buf), f"field:{f.kind}@{f.offset}"


def _jsonl(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    lines = data.split(b"\n")
    i = rng.randrange(len(lines))
    kind = rng.choice(("delete", "duplicate", "swap", "number", "number", "string", "nest"))
    if kind == "delete":
        del lines[i]
    elif kind == "duplicate":
        lines.insert(i, lines[i])
    elif kind == "swap":
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "number":
        found = list(_NUMBER.finditer(lines[i]))
        if found:
            m = rng.choice(found)
            new = rng.choice(
                (
                    b"0",
                    b"-1",
                    b"1e308",
                    b"-1e308",
                    b"18446744073709551616",
                    b"1.5",
                    b"1e-400",
                    b'"x"',
                    b"null",
                    b"true",
                    b"[]",
                    b"{}",
                    b"9" * 400,
                    b"NaN",
                    b"Infinity",
                )
            )
            lines[i] = lines[i][: m.start()] + new + lines[i][m.end() :]
    elif kind == "string":
        lines[i] = lines[i].replace(b'"', b'"' + rng.choice((b"\\u0000", b"\xff", b"x" * 1000)), 1)
    else:
        lines[i] = b"[" * 5000 + lines[i] + b"]" * 5000
    return b"\n".join(lines), f"jsonl:{kind}"
