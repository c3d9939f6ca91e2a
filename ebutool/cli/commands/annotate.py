"""``ebutool annotate``: a pcapng copy of a capture with a comment on every episode frame."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ebutool.cli.option_groups import esp_options, key_options, protocol_options
from ebutool.cli.options import QuietOpt, claim_inputs, err, guarded, output_file, print_diagnostics
from ebutool.core.constants import ProtocolConfig
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import EbutoolError, InputError, UsageError
from ebutool.core.stdio import stdin_buffer, stdout_is_terminal

if TYPE_CHECKING:
    from ebutool.esp.sa import EspSA
    from ebutool.oracle.keys import KeyTable

WARNINGS_KEPT = 100_000  # per code: the per-packet warnings a comment can name

CaptureArg = Annotated[
    str,
    typer.Argument(help="pcap or pcapng capture, maybe compressed ('-' = stdin)."),
]
PcapngOutOpt = Annotated[
    str,
    typer.Option(
        "--output",
        "-o",
        help="The annotated pcapng ('-' = stdout, not a terminal).",
    ),
]
VantageRoleOpt = Annotated[
    str | None,
    typer.Option(
        "--vantage",
        metavar="ROLE",
        help="Where the capture was taken: ROLE or CAPTURE=ROLE (as analyze takes it; mn, "
        "ha, cn, path); detected if not given.",
    ),
]


def register(app: typer.Typer) -> None:
    @app.command("annotate")
    @guarded
    @protocol_options("analysis", "oracle")
    @key_options
    @esp_options
    def annotate_cmd(
        capture: CaptureArg,
        config: ProtocolConfig,
        keys: KeyTable,
        esp_sas: list[EspSA],
        output: PcapngOutOpt = "-",
        vantage: VantageRoleOpt = None,
        quiet: QuietOpt = False,
    ) -> None:
        """Copy a capture to pcapng with a comment on every packet of every episode:
        the MN, the episode number (as analyze numbers it), the packet's role (HoTI,
        HoT, CoTI, CoT, BU, BA, EBU, EBA, BE, BRR, first_ro_data), the oracle's verdict
        (with the key options, or from the capture's own tokens) and the episode's
        diagnosis, as delimited tokens (docs/outputs.md):

        ebutool: mn=2001:db8::1; episode=3; kind=early; role=EBU; from=MN; to=CN;
        auth=valid;

        In Wireshark, frame.comment contains "episode=3;" selects one episode.  Other
        packets are copied unchanged, with the original interfaces and timestamps.

        Example: ebutool annotate samples/mixed.pcap -o mixed-annotated.pcapng

        Example: tshark -r mixed-annotated.pcapng -Y 'frame.comment contains "episode=3;"'
        """
        from ebutool.analysis.vantage import check_role, parse_vantage_options, role_for
        from ebutool.annotate import annotate

        if output == "-" and stdout_is_terminal():
            raise UsageError("annotate writes a binary pcapng: give -o PATH or redirect stdout")
        role = None
        if vantage is not None and "=" in vantage:
            role = role_for(capture, parse_vantage_options([vantage]))
            if role is None:
                raise UsageError(f"--vantage {vantage}: names another file than {capture}")
        elif vantage is not None:
            role = check_role(vantage.strip().lower())
        claim_inputs([capture])
        out = output_file(output)
        diag = _Spooled(keep=WARNINGS_KEPT)
        with _readable_twice(capture) as path:
            diag.spool, diag.given = (path if path != capture else ""), capture
            try:
                result = annotate(
                    path, out, config=config, keys=keys, esp_sas=esp_sas, diag=diag, vantage=role
                )
            except EbutoolError as exc:
                if not diag.spool:
                    raise
                # the user gave `-` or a pipe: the spool's name means nothing to them
                raise type(exc)(diag.shown(str(exc))) from None
        if not quiet:
            err(
                f"{capture} -> {output}: {result.frames} frames, {result.annotated} "
                f"annotated in {result.episodes} episode{'s' if result.episodes != 1 else ''}"
                + _dropped(result.dropped)
            )
            print_diagnostics(diag, quiet)


def _dropped(blocks: int) -> str:
    """The closing line's note of the Custom Blocks left out (frames after them are
    numbered one lower each in the copy than in the input)."""
    if not blocks:
        return ""
    return (
        f"; {blocks} pcapng Custom Block{'s' if blocks != 1 else ''} of type 0x40000BAD "
        "(not to be copied) left out: later frames are numbered lower in the copy"
    )


@dataclass
class _Spooled(Diagnostics):
    """Warnings that name the input as the user gave it (``-``, a pipe's path), not the
    temporary file it was spooled to (:class:`_readable_twice`)."""

    spool: str = ""  # the temporary file's name ("" when the input is read as it is)
    given: str = "-"

    def shown(self, message: str) -> str:
        return message.replace(self.spool, self.given) if self.spool else message

    def warn(self, code: str, message: str, frame: int | None = None) -> None:
        super().warn(code, self.shown(message), frame)


class _readable_twice:
    """A path the input can be read from twice: standard input or a pipe
    (ebutool.stream.sniff.read_once) spooled to a temporary file in $TMPDIR (removed at
    the end), a regular file as it is."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._tmp: Any = None

    def __enter__(self) -> str:
        from ebutool.stream.sniff import read_once

        if not read_once(self.path):
            return self.path
        self._tmp = tempfile.NamedTemporaryFile(prefix="ebutool-annotate-", suffix=".cap")  # noqa: SIM115
        try:
            if self.path == "-":
                shutil.copyfileobj(stdin_buffer(), self._tmp)
            else:
                try:
                    with open(self.path, "rb") as src:
                        shutil.copyfileobj(src, self._tmp)
                except OSError as exc:
                    raise InputError(f"{self.path}: cannot read ({exc.strerror or exc})") from None
            self._tmp.flush()
        except BaseException:
            self._tmp.close()
            raise
        return self._tmp.name

    def __exit__(self, *exc: object) -> None:
        if self._tmp is not None:
            self._tmp.close()
