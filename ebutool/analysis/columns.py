"""The episode table's columns, declared once: name, pandas dtype, unit, meaning, and how
each value comes from a finished :class:`Episode`.

The CSV header (:data:`EPISODE_COLUMNS`), the row builder (:func:`row_values`, used by
both the Episode path and the lean :mod:`ebutool.analysis.rows`) and the column list of
docs/analysis.md (:func:`markdown_table`, written by ``scripts/episode_columns_doc.py``
and checked by a test) all come from :data:`COLUMNS`.  Adding a column is one entry
here (and the Episode field it reads): nothing is positional elsewhere, so nothing can
shift.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Final, Literal

from ebutool.analysis.formulas import FORMULA_TEXT, FORMULAS
from ebutool.analysis.state import Episode

if TYPE_CHECKING:
    import pandas as pd

# The pandas dtypes of the table; text formats and the lean rows rely on these four.
Dtype = Literal["object", "float64", "Int64", "boolean"]
OBJECT: Final = "object"
FLOAT: Final = "float64"
INT: Final = "Int64"
BOOL: Final = "boolean"


@dataclass(frozen=True, slots=True)
class Column:
    """One output column of the episode table."""

    name: str
    dtype: Dtype
    unit: str  # as docs/analysis.md states it: address, code, ms, epoch s, ...
    meaning: str  # one line of Markdown (docs/analysis.md)
    value: Callable[[Episode], object]  # the cell of one episode (None = empty)


def _attr(name: str, dtype: Dtype, unit: str, meaning: str) -> Column:
    """A column that is the Episode attribute of the same name."""
    return Column(name, dtype, unit, meaning, attrgetter(name))


def _later(name: str, dtype: Dtype, unit: str, meaning: str) -> Column:
    """A column the finished table gets (ebutool.analysis.observable): empty per Episode."""
    return Column(name, dtype, unit, meaning, lambda ep: None)


def _joined(codes: list[str]) -> str | None:
    return ";".join(codes) or None


def _prediction(formula: str) -> Column:
    def value(ep: Episode) -> float | None:
        return ep.predicted[formula]

    return Column(f"{formula}_ms", FLOAT, "ms", FORMULA_TEXT[formula], value)


# DESIGN.md section 5's contract first, in its order (DESIGN_COLUMNS); then ebutool's.
COLUMNS: tuple[Column, ...] = (
    _attr("mn", OBJECT, "address", "the MN's home address"),
    _attr(
        "ha",
        OBJECT,
        "address",
        "its home agent (from the BU with the H flag, or the tunnel endpoint)",
    ),
    _attr("cn", OBJECT, "address", "the correspondent node; empty for an HA-only row"),
    _attr(
        "prev_coa",
        OBJECT,
        "address",
        "the address the MN used before this handover (empty if none seen)",
    ),
    _attr(
        "coa",
        OBJECT,
        "address",
        "the new care-of address (the home address when returning home)",
    ),
    _attr("kind", OBJECT, "code", "see [kind](#kind)"),
    _attr("mode", OBJECT, "code", "see [mode](#mode)"),
    _attr(
        "t_handover",
        FLOAT,
        "epoch s",
        "t0, see [t0](#t0-the-handover-time) (6 decimals in text formats, 9 for "
        "nanosecond captures)",
    ),
    _attr("rtt_ha_ms", FLOAT, "ms", "RTT_HA: BU->HA to the BA that accepted it"),
    _attr(
        "rtt_bt_ms",
        FLOAT,
        "ms",
        "RTT_BT: HoTI to HoT of the home test whose token this episode used",
    ),
    _attr(
        "rtt_ro_ms",
        FLOAT,
        "ms",
        "RTT_RO: EBU to EBA for an early episode, else CoTI to CoT (`rtt_ro_from` says which)",
    ),
    _attr(
        "send_latency_ms",
        FLOAT,
        "ms",
        "t0 to the first route-optimised data packet MN -> CN from the new address",
    ),
    _attr(
        "recv_latency_ms",
        FLOAT,
        "ms",
        "t0 to the first route-optimised data packet CN -> MN at the new address",
    ),
    *(_prediction(formula) for formula in FORMULAS),
    _attr("auth", OBJECT, "code", "`valid`, `invalid` or `unknown`, see [auth](#auth)"),
    # ebutool's additions
    Column(
        "source",
        OBJECT,
        "text",
        "the input file the episode comes from (base name, or the path as given where two "
        "base names clash); octets of a name that are not UTF-8, and those of a control "
        "character (a newline `\\x0a`, ESC `\\x1b`), as `\\xNN` escapes and a "
        "backslash doubled (`\\\\`), so that each label names one file: `\\xff.pcap` is "
        "the octet 0xff, `\\\\xff.pcap` a name beginning with a backslash "
        "(ebutool.core.names.name_octets reverses it)",
        lambda ep: ep.source or None,
    ),
    Column(
        "episode",
        INT,
        "integer",
        "1, 2, ... in order of t_handover, MN, CN within a file; files one after the other "
        "in argument order (with `--merge`, over the merged capture)",
        attrgetter("id"),
    ),
    _attr(
        "t0_source",
        OBJECT,
        "code",
        "`event` (a handover event of a JSON trace) or `first_packet`; empty when t0 is unknown",
    ),
    _attr(
        "complete",
        BOOL,
        "boolean",
        "the whole procedure finished inside the capture (the standard BU, or the "
        "deregistration, acknowledged; for an HA-only row the home registration)",
    ),
    _attr(
        "rtt_ro_from",
        OBJECT,
        "code",
        "`ebu_eba` or `coti_cot`: the exchange RTT_RO was measured on",
    ),
    _attr(
        "home_test_before_handover",
        BOOL,
        "boolean",
        "the home test this episode used ran before t0 (always so for an early episode; a "
        "standard one may reuse a token)",
    ),
    _attr(
        "n_retransmissions",
        INT,
        "integer",
        "extra transmissions of the episode's requests (BU/EBU, CoTI, HoTI, and the shared "
        "BU->HA): copies with the same sequence number or cookie, plus each unanswered "
        "request followed by another of the same type to the same peer (a retransmission "
        "with a new sequence number or cookie, RFC 6275 11.8)",
    ),
    Column(
        "karn_excluded",
        OBJECT,
        "codes",
        "RTT columns left empty by Karn's rule (`rtt_ha`, `rtt_bt`, `rtt_ro`, `;`-separated)",
        lambda ep: _joined(ep.karn_excluded),
    ),
    _attr("n_binding_errors", INT, "integer", "Binding Errors the CN sent in this episode"),
    Column(
        "diagnosis",
        OBJECT,
        "codes",
        "`;`-separated episode notes, see [diagnosis codes](#diagnosis-codes)",
        lambda ep: _joined(ep.diagnosis),
    ),
    _attr(
        "rtt_bt_basis",
        OBJECT,
        "code",
        "which RTT_BT the six predictions use, see [RTT_BT in the predictions]"
        "(#rtt_bt-in-the-predictions); empty when they use none",
    ),
    _attr(
        "rtt_bt_pred_ms",
        FLOAT,
        "ms",
        "that RTT_BT value (may differ from the measured `rtt_bt_ms`)",
    ),
    _attr(
        "data_gap_send_ms",
        FLOAT,
        "ms",
        "median interval between the last (up to 9) data packets the MN sent to this CN "
        "before the handover (route-optimised or reverse-tunnelled, from any earlier "
        "address); empty with fewer than two",
    ),
    _attr(
        "data_gap_recv_ms",
        FLOAT,
        "ms",
        "the same for data from this CN to the MN (route-optimised or HA-tunnelled)",
    ),
    _attr(
        "quality",
        OBJECT,
        "code",
        "`ok`, or why the row must not enter statistics, see [quality](#quality)",
    ),
    _attr(
        "esp_protected",
        OBJECT,
        "codes",
        "the episode's messages that were ESP-protected and decrypted with `--esp-sa` "
        "(`;`-separated labels, e.g. `BU;BA;HoTI;HoT`); empty when none was",
    ),
    # The vantage point and what only some vantage points measure (ebutool.analysis.
    # observable fills these in the finished table; see docs/analysis.md "Vantage points").
    _later(
        "vantage",
        OBJECT,
        "code",
        "where the capture was taken: `mn`, `ha`, `cn`, `path` "
        "or `multi`; empty when it cannot be told, see [vantage point](#vantage-point)",
    ),
    _later(
        "t_first_seen",
        FLOAT,
        "epoch s",
        "at a vantage other than the MN: when the first "
        "packet from the new care-of address was seen there (t0 is the MN's, unobservable)",
    ),
    _later(
        "cn_send_interval_ms",
        FLOAT,
        "ms",
        "at the CN: the first packet from the new "
        "care-of address to the first route-optimised data from it (the send latency "
        "shifted by one-way delays)",
    ),
    _later(
        "cn_recv_interval_ms",
        FLOAT,
        "ms",
        "at the CN: the first packet from the new "
        "care-of address to the first route-optimised data the CN sent to it",
    ),
    _later(
        "cn_home_test_proc_ms",
        FLOAT,
        "ms",
        "at the CN: HoTI arrival to HoT departure "
        "(the CN's processing time of the home test this episode used)",
    ),
    _later(
        "cn_ro_proc_ms",
        FLOAT,
        "ms",
        "at the CN: CoTI arrival to CoT departure, or "
        "EBU arrival to EBA departure (`rtt_ro_from` says which)",
    ),
    _later(
        "ha_bu_proc_ms",
        FLOAT,
        "ms",
        "at the HA: BU arrival to the departure of the BA that accepted it",
    ),
    # merged views only (ebutool.analysis.owd): the one-way delay of each leg
    _later(
        "owd_mn_ha_ms",
        FLOAT,
        "ms",
        "merged views: one-way delay MN <-> HA on the episode's care-of address (mean of both "
        "directions after clock correction)",
    ),
    _later(
        "owd_ha_cn_ms",
        FLOAT,
        "ms",
        "merged views: one-way delay HA <-> CN (mean of both directions after clock correction)",
    ),
    _later(
        "owd_mn_cn_ms",
        FLOAT,
        "ms",
        "merged views: one-way delay MN <-> CN on the direct (route-optimised) path from the "
        "episode's care-of address (mean of both directions after clock correction)",
    ),
)

# name -> pandas dtype, in output order: the CSV header and the DataFrame's dtypes.
EPISODE_COLUMNS: dict[str, Dtype] = {c.name: c.dtype for c in COLUMNS}
N_DESIGN_COLUMNS = 20  # DESIGN.md section 5: mn ... auth
DESIGN_COLUMNS = [c.name for c in COLUMNS[:N_DESIGN_COLUMNS]]

_VALUES = tuple(c.value for c in COLUMNS)


def row_values(ep: Episode) -> tuple[object, ...]:
    """The cells of one episode, in :data:`COLUMNS` order."""
    return tuple([value(ep) for value in _VALUES])


def episode_row(ep: Episode) -> dict[str, object]:
    """The output columns of one episode."""
    return dict(zip(EPISODE_COLUMNS, row_values(ep), strict=True))


def episodes_frame(episodes: Iterable[Episode]) -> pd.DataFrame:
    """The episode table: EPISODE_COLUMNS in order with their dtypes (typed even when empty)."""
    import pandas as pd

    from ebutool.core.exact_time import EXACT_NS, exact_map

    episodes = list(episodes)
    rows = [episode_row(e) for e in episodes]
    df = pd.DataFrame(rows, columns=list(EPISODE_COLUMNS))
    df.attrs[EXACT_NS] = exact_map(e.t0_ns for e in episodes)  # t_handover's exact ns
    for col, dtype in EPISODE_COLUMNS.items():
        if dtype == OBJECT:
            df[col] = df[col].astype(object).where(df[col].notna(), None)
        else:
            df[col] = df[col].astype(dtype)
    return df


def markdown_table() -> str:
    """The column list of docs/analysis.md (``scripts/episode_columns_doc.py`` writes it)."""
    lines = ["| column | unit / type | meaning |", "| --- | --- | --- |"]
    lines += [f"| `{c.name}` | {c.unit} | {c.meaning} |" for c in COLUMNS]
    return "\n".join(lines) + "\n"
