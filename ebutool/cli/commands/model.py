"""``ebutool model``: the draft's latency formulas for given RTTs, sweeps and a plot."""

from __future__ import annotations

from typing import Annotated

import typer

from ebutool.cli.options import (
    ColumnsOpt,
    FormatOpt,
    OutputOpt,
    QuietOpt,
    check_output,
    err,
    guarded,
    output_file,
    write_table,
)
from ebutool.core.errors import UsageError
from ebutool.report import OutputFormat

RttHaOpt = Annotated[
    float | None,
    typer.Option(
        "--rtt-ha", metavar="MS", help="RTT_HA: BU/BA round trip with the home agent, ms."
    ),
]
RttBtOpt = Annotated[
    float | None,
    typer.Option(
        "--rtt-bt", metavar="MS", help="RTT_BT: HoTI/HoT round trip through the tunnel, ms."
    ),
]
RttRoOpt = Annotated[
    float | None,
    typer.Option(
        "--rtt-ro", metavar="MS", help="RTT_RO: CoTI/CoT (or EBU/EBA) direct round trip, ms."
    ),
]
SweepOpt = Annotated[
    str | None,
    typer.Option(
        "--sweep",
        metavar="VAR=START:STOP:STEP",
        help="Vary one RTT (rtt_ha, rtt_bt or rtt_ro) from START to STOP inclusive, ms; "
        "one row per value. The swept RTT's own option is then not given.",
    ),
]
PlotOpt = Annotated[
    str | None,
    typer.Option(
        "--plot",
        metavar="PATH",
        help="With --sweep: draw latency vs the swept RTT, one line per formula "
        "(.png, .svg or .pdf; needs ebutool[plot]).",
    ),
]


def register(app: typer.Typer) -> None:
    @app.command("model")
    @guarded
    def model_cmd(
        rtt_ha: RttHaOpt = None,
        rtt_bt: RttBtOpt = None,
        rtt_ro: RttRoOpt = None,
        sweep: SweepOpt = None,
        plot: PlotOpt = None,
        fmt: FormatOpt = OutputFormat.table,
        output: OutputOpt = "-",
        columns: ColumnsOpt = None,
        quiet: QuietOpt = False,
    ) -> None:
        """The draft's six latency formulas (section 5) for given round-trip times,
        and what early binding updates save over standard ones.

        Columns: the three RTTs, std_send_conserv_ms ... early_recv_ms (names as in
        DESIGN.md), saving_<x>_ms = standard - early and ratio_<x> = early / standard
        for x = send_conserv, send_optimst, recv.  See docs/reports.md.

        Example: ebutool model --rtt-ha 40 --rtt-bt 120 --sweep rtt_ro=10:200:10 --plot ro.png
        """
        fixed = {"rtt_ha": rtt_ha, "rtt_bt": rtt_bt, "rtt_ro": rtt_ro}
        if plot is not None and sweep is None:
            raise UsageError(
                "--plot needs --sweep VAR=START:STOP:STEP (a figure of one point says nothing)"
            )
        if sweep is None:
            _single(fixed, fmt, output, columns, quiet)
        else:
            _sweep(fixed, sweep, plot, fmt, output, columns, quiet)


def _single(
    fixed: dict[str, float | None],
    fmt: OutputFormat,
    output: str,
    columns: str | None,
    quiet: bool,
) -> None:
    """One RTT triple: one row."""
    from ebutool.analysis import formula_table as model

    rtt_ha, rtt_bt, rtt_ro = fixed["rtt_ha"], fixed["rtt_bt"], fixed["rtt_ro"]
    if rtt_ha is None or rtt_bt is None or rtt_ro is None:
        missing = [k for k, v in fixed.items() if v is None]
        raise UsageError(
            "give "
            + ", ".join("--" + k.replace("_", "-") for k in missing)
            + " (round-trip times in ms), or --sweep one of them"
        )
    check_output(fmt, output)
    df = model.model_table(rtt_ha, rtt_bt, rtt_ro)
    write_table(df, fmt, output_file(output), columns=columns, name="ebutool_model", quiet=quiet)
    if not quiet:
        r = df.iloc[0]
        err(
            f"RTT_HA {rtt_ha:g} ms, RTT_BT {rtt_bt:g} ms, RTT_RO {rtt_ro:g} ms; "
            "early saves "
            + ", ".join(
                f"{r[f'saving_{p}_ms']:g} ms {label}"
                for p, label in (
                    ("send_conserv", "sending (conservative)"),
                    ("send_optimst", "sending (optimistic)"),
                    ("recv", "receiving"),
                )
            )
        )


def _sweep(
    fixed: dict[str, float | None],
    sweep: str,
    plot: str | None,
    fmt: OutputFormat,
    output: str,
    columns: str | None,
    quiet: bool,
) -> None:
    """One RTT swept: one row per value, and the figure with --plot."""
    from ebutool.analysis import formula_table as model

    sw = model.parse_sweep(sweep)
    if fixed[sw.variable] is not None:
        raise UsageError(f"--{sw.variable.replace('_', '-')} is swept by --sweep; leave it out")
    if plot is not None:
        from ebutool.report.plots import check_plot_target

        check_plot_target(plot)
    check_output(fmt, output)
    out = output_file(output)
    plot_out = output_file(plot, "--plot") if plot is not None else None
    # an RTT left out is missing from ``others``: sweep_table says which to give
    others = {k: v for k, v in fixed.items() if k != sw.variable and v is not None}
    df = model.sweep_table(sw, **others)
    if plot is not None:
        from ebutool.report.plots import save_figure, sweep_figure

        save_figure(sweep_figure(df, sw.variable, others), plot_out or plot)
    write_table(df, fmt, out, columns=columns, name="ebutool_model", quiet=quiet)
    if not quiet:
        err(
            f"{len(df)} values of {sw.variable} from {df[sw.variable + '_ms'].iloc[0]:g} to "
            f"{df[sw.variable + '_ms'].iloc[-1]:g} ms, "
            + ", ".join(f"{k} {v:g} ms" for k, v in others.items())
            + (f"; figure written to {plot}" if plot else "")
        )
