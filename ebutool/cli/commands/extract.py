"""``ebutool extract``: captures -> a Parquet record store (wiring only; see ebutool.store)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer

from ebutool.cli.option_groups import esp_options
from ebutool.cli.options import JobsOpt, QuietOpt, err, guarded
from ebutool.core.errors import EXIT_UNREADABLE

if TYPE_CHECKING:
    from ebutool.esp.sa import EspSA

FilesArg = Annotated[
    list[str],
    typer.Argument(
        help="pcap/pcapng captures or JSON Lines traces, or directories (the captures and "
        "traces directly in them that analyze reads, by content, also compressed)."
    ),
]
StoreOpt = Annotated[
    str,
    typer.Option(
        "--output",
        "-o",
        help="The store directory (created; an existing store gets the new or changed files).",
    ),
]
ClusterOpt = Annotated[
    str | None,
    typer.Option(
        "--cluster",
        help="Run on Dask: local[:N] (a LocalCluster of N worker processes) or "
        "tcp://HOST:PORT (a running scheduler; inputs and store on a shared file system). "
        "Needs the ebutool[dask] extra.",
    ),
]
VantageOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--vantage",
        metavar="PATH=ROLE",
        help="Where the capture PATH (as given, or its base name) was taken: mn, ha, cn or "
        "path; repeatable.  Kept with its part instead of the detected vantage point "
        "(analyze STORE merges parts of several vantage points as views of one run).",
    ),
]
PruneOpt = Annotated[
    bool,
    typer.Option(
        "--prune",
        help="Remove the parts of inputs that are gone since an earlier run (deleted from "
        "a directory given, or named and no longer there), so that the store answers for "
        "what analyze --merge of the inputs reads.  Without it they are kept and counted: "
        "a campaign may delete its captures once extracted.",
    ),
]
PROGRESS_EVERY_S = 1.0  # at most one progress line a second (and the last one)


class _Progress:
    """Files done and packets/s on stderr, at most once a second."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.start = time.perf_counter()
        self.last = 0.0
        self.frames = 0

    def __call__(self, result, done: int, total: int) -> None:
        self.frames += result.frames
        if result.status == "failed":
            err(f"error: {result.error} (the other files go on)")
        if self.quiet:
            return
        now = time.perf_counter()
        if done < total and now - self.last < PROGRESS_EVERY_S:
            return
        self.last = now
        rate = self.frames / max(now - self.start, 1e-9)
        err(f"extract: {done}/{total} files done, {rate:,.0f} packets/s")


def register(app: typer.Typer) -> None:
    @app.command("extract")
    @guarded
    @esp_options
    def extract_cmd(
        files: FilesArg,
        store: StoreOpt,
        esp_sas: list[EspSA],
        jobs: JobsOpt = 1,
        cluster: ClusterOpt = None,
        vantage: VantageOpt = None,
        prune: PruneOpt = False,
        quiet: QuietOpt = False,
    ) -> None:
        """Extract the records the analysis uses into a Parquet record store, one part
        per input file; `ebutool analyze STORE` then reads it like one capture.

        Each part keeps the Mobility Header messages (with their wire octets) and the
        route-optimised and tunnelled data packets, counts of the rest, and the file's
        facts (size, mtime, SHA-256, first/last time, frame counts, warnings); binding
        facts (care-of -> home address) go beside it.  Running again on a grown
        directory extracts only the new or changed files; an interrupted run resumes.
        A file that cannot be read is named and counted, the others are written (exit 3
        at the end).  With --esp-sa, ESP-protected signalling is stored decrypted with its
        ESP facts (docs/esp.md); a part extracted with other SAs is extracted again.
        Each part keeps its vantage point (detected, or --vantage) and what tells views
        of one run: a store of MN, HA and CN captures is analysed as analyze --merge of
        them (merged views).  docs/scale-out.md: several hosts, SLURM/PBS, DuckDB/pandas.

        Example: ebutool extract captures/ -o store/ --cluster local:2 && ebutool analyze store/
        """
        from ebutool.analysis.vantage import parse_vantage_options
        from ebutool.runner.cluster import extract_files
        from ebutool.store.layout import check_store_target

        check_store_target(store)  # before any file is read
        given = parse_vantage_options(vantage or [])

        if cluster is not None and jobs != 1:
            err(
                f"warning: -j {jobs} is ignored with --cluster: the cluster's workers run "
                "the files (--cluster local:N sets how many)"
            )
        progress = _Progress(quiet)
        report = extract_files(
            files,
            store,
            jobs,
            cluster=cluster,
            on_result=progress,
            say=None if quiet else err,
            esp_sas=esp_sas,
            vantage=given,
            prune=prune,
        )
        if not quiet:
            err(f"{store}: {report.summary()}")
        if report.failed:
            names = ", ".join(r.path for r in report.failed[:3])
            more = f" and {len(report.failed) - 3} more" if len(report.failed) > 3 else ""
            n, total = len(report.failed), len(report.results)
            err(f"error: {n} of {total} files unreadable: {names}{more}")
            raise typer.Exit(EXIT_UNREADABLE)
