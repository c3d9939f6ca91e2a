"""Counted per-packet warnings.

A problem with one packet never stops a run: it becomes a diagnosis with a
category (a short snake_case code, documented in README "Diagnostics"), the frame
number and a one-line message.  Counts per category are always complete; only the
first ``keep`` diagnoses per category are kept verbatim so memory stays bounded.
With several input files each file's Diagnostics carries its ``source`` (the file's
label), so a kept diagnosis says which file its frame number belongs to.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Diagnosis:
    frame: int | None  # 1-based frame number, None for file-level problems
    code: str  # category, e.g. "truncated_record", "bad_mh_checksum"
    message: str  # one line, no secrets
    source: str = ""  # the input file's label when a run reads several files


@dataclass
class Diagnostics:
    keep: int = 20
    counts: Counter = field(default_factory=Counter)
    kept: list[Diagnosis] = field(default_factory=list)
    _kept_per_code: Counter = field(default_factory=Counter)
    source: str = ""  # stamped on every diagnosis kept (see the module doc)

    def warn(self, code: str, message: str, frame: int | None = None) -> None:
        self.counts[code] += 1
        if self._kept_per_code[code] < self.keep:
            self._kept_per_code[code] += 1
            self.kept.append(Diagnosis(frame, code, message, self.source))

    def labelled(self, source: str) -> Diagnostics:
        """This object, its kept diagnoses and those to come stamped with ``source``."""
        self.source = source
        self.kept = [
            d if d.source else Diagnosis(d.frame, d.code, d.message, source) for d in self.kept
        ]
        return self

    def for_source(self, source: str) -> Diagnostics:
        """A view for one input of several: it counts and keeps into this object's
        tables, and stamps ``source`` on what it keeps."""
        return Diagnostics(self.keep, self.counts, self.kept, self._kept_per_code, source)

    def merge(self, other: Diagnostics) -> None:
        for d in other.kept:
            if self._kept_per_code[d.code] < self.keep:
                self._kept_per_code[d.code] += 1
                self.kept.append(d)
        self.counts.update(other.counts)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __bool__(self) -> bool:  # a Diagnostics object is always "present"
        return True
