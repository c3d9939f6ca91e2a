"""Extraction on a Dask cluster: ``--cluster local[:N]`` or ``--cluster tcp://HOST:PORT``.

    from ebutool.runner.cluster import extract_files
    report = extract_files(["day1/"], "store/", cluster="local:2")

- ``local`` / ``local:N`` starts a :class:`distributed.LocalCluster` of N worker
  processes (one thread each; N defaults to the machine's cores) for this run;
- ``tcp://HOST:PORT`` (or ``tls://``) connects to a running scheduler (``dask scheduler``
  and ``dask worker`` on the hosts, docs/scale-out.md).  The inputs and the store must be
  at the same path on every worker (a shared file system): checked at start, and a
  worker that cannot see them is a one-line usage error.

Each input file is one task (:func:`ebutool.store.writer.extract_file`), submitted with
``retries``; a worker that dies in the middle of a task has the task run again on
another worker by the scheduler (a worker process lost is not a task failure), so
the store is complete either way, and parts are written atomically.  Without Dask
installed (the ``ebutool[dask]`` extra) ``--cluster`` is a one-line usage error and
``--jobs`` works as before.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ebutool.core.errors import UsageError
from ebutool.store.incremental import ExtractReport, extract
from ebutool.store.writer import PartResult, extract_file

if TYPE_CHECKING:
    from ebutool.esp.sa import EspSA

TASK_RETRIES = 2  # a task that raised is tried this many more times
# The workers' own sampling, off for a LocalCluster: the statistical profiler (a stack
# sample every 10 ms) and the GIL monitor (every 1 ms) cost pure-Python tasks about a
# quarter of their CPU time (benchmarks/scale_out.py); the dashboard keeps the rest.
# And glibc's malloc as in a plain process: Dask's nanny starts its workers with
# MALLOC_TRIM_THRESHOLD_=65536, and any such setting also fixes glibc's mmap threshold
# at 128 KiB, so every large buffer of a task is mmap'd and unmapped again: a 1 M-packet
# file then costs ~54,000 page faults instead of ~1,000, the task 10-20% more CPU
# (docs/performance.md).  None: the nanny does not set it (a value in the environment
# that ebutool is started from is still passed on).
# Then fewer wake-ups of the event loops, each of which takes the GIL from a worker's
# task (and the scheduler's and nannies' share the same cores): the loop-health tick
# (20 ms), the system monitor of the dashboard's graphs (500 ms) and the memory monitor
# (100 ms: pause, spill, and the nanny's kill at 95% of the memory limit, which a task of
# ~200 MB does not approach).  An idle 2-worker cluster then costs ~0.2 s of CPU in 10 s
# instead of ~1 s (docs/performance.md).
LEAN_WORKERS = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.gil.enabled": False,
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    "distributed.admin.tick.interval": "500ms",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
}
DASK_MISSING = (
    "--cluster needs Dask: pip install 'ebutool[dask]' (or 'dask[distributed]'); "
    "--jobs N runs on this machine without it"
)


# How long a run waits for the scheduler at a --cluster address to answer (Dask retries
# a refused connection until then): a scheduler being started has that long to come up.
SCHEDULER_TIMEOUT = "10s"
# The comm protocols a Dask scheduler listens on (inproc:// is within one process only).
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")
# HOST (a name, an IPv4 address, an IPv6 address in brackets) and :PORT (Dask's Client
# needs the port)
_HOST_PORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[^:/\[\]\s]+):(\d{1,5})")


def parse_cluster(spec: str) -> tuple[str, Any]:
    """("local", N or None) or ("address", "tcp://HOST:PORT") for a ``--cluster`` value;
    an address Dask could not use is a UsageError here, before anything is started."""
    if spec == "local":
        return "local", None
    if spec.startswith("local:"):
        n = spec[len("local:") :]
        if not n.isdigit() or int(n) < 1:
            raise UsageError(f"--cluster {spec!r}: local:N needs a number of workers >= 1")
        return "local", int(n)
    if "://" not in spec or not spec.split("://", 1)[1]:
        raise UsageError(f"--cluster {spec!r}: give local, local:N or tcp://HOST:PORT")
    scheme, rest = spec.split("://", 1)
    if scheme not in SCHEDULER_SCHEMES:
        raise UsageError(
            f"--cluster {spec!r}: a scheduler's address is tcp://HOST:PORT "
            f"(or {', '.join(s + '://' for s in SCHEDULER_SCHEMES[1:])}), not {scheme}://"
        )
    m = _HOST_PORT.fullmatch(rest)
    if m is None or not 1 <= int(m.group(2)) <= 65535:
        raise UsageError(
            f"--cluster {spec!r}: give the scheduler as {scheme}://HOST:PORT "
            "(PORT 1-65535, an IPv6 address in brackets: [2001:db8::1]:8786)"
        )
    return "address", spec


def _distributed():
    try:
        import distributed
    except ImportError:
        raise UsageError(DASK_MISSING) from None
    return distributed


@contextlib.contextmanager
def dask_client(spec: str, say: Callable[[str], None] | None = None) -> Iterator[Any]:
    """A :class:`distributed.Client` for ``spec`` (module doc), closed at the end (with
    the LocalCluster it started); ``say`` gets the dashboard address."""
    kind, value = parse_cluster(spec)
    distributed = _distributed()
    if kind == "local":
        import dask

        with dask.config.set(LEAN_WORKERS):  # the workers take the config they start with
            cluster = distributed.LocalCluster(
                n_workers=value or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                silence_logs=logging.ERROR,
            )
        client = distributed.Client(cluster)
    else:
        cluster = None
        try:
            client = distributed.Client(value, timeout=SCHEDULER_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise UsageError(f"--cluster {value}: cannot reach the scheduler ({exc})") from None
        except (TypeError, ValueError) as exc:  # tls:// without Dask's TLS settings, ...
            why = " ".join(str(exc).split())
            raise UsageError(f"--cluster {value}: cannot connect to it ({why})") from None
    with contextlib.ExitStack() as stack:
        if cluster is None:
            stack.enter_context(_scheduler_loss_told(client, value))  # (closes the client)
        else:
            stack.callback(_close_quietly, client, cluster)
        if cluster is None and not worker_count(client):
            # (workers queued as batch jobs, or not started yet): the tasks, and the check
            # that the workers see the files, need one
            if say is not None:
                say(
                    f"cluster: no workers at {value} yet: waiting for one to join "
                    f"(dask worker {value}; Ctrl-C stops)"
                )
            client.wait_for_workers(1)
        # each worker imports what the tasks need, at its start, and runs this ebutool
        check_same_ebutool(client.run(warm_worker))
        if say is not None:
            link = getattr(client, "dashboard_link", None)
            workers = worker_count(client)
            plural = "" if workers == 1 else "s"
            say(f"cluster: {workers} worker{plural}" + (f", dashboard {link}" if link else ""))
        yield client


def worker_count(client: Any) -> int:
    """The workers the scheduler has now, all of them: Client.scheduler_info() of
    distributed 2025.x (2025.5.0 checked) lists only the first 5 unless given
    n_workers=-1; Client.nthreads() lists every worker, in every release."""
    return len(client.nthreads())


SCHEDULER_LOST = (
    "--cluster {address}: lost the connection to the scheduler during the run ({why}); "
    "run the command again once it is back (extract goes on from the parts in the store)"
)


@contextlib.contextmanager
def _scheduler_loss_told(client: Any, address: str) -> Iterator[None]:
    """A scheduler at ``address`` lost in the middle of the run (stopped, its host gone)
    is a one-line UsageError (Dask cancels the run's futures once the client has failed
    to reconnect), not an internal error; the client's own log lines about it ("Failed to
    reconnect", and the traceback of its reconnection cancelled as it is closed), which
    this line replaces, are kept off stderr.  The client is closed at the end."""
    from concurrent.futures import CancelledError

    log = logging.getLogger("distributed.client")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        yield
    except (CancelledError, OSError) as exc:
        if client.status == "running":
            raise
        first = " ".join(str(exc).split("\n")[0].split())
        reason = re.search(r"cancelled for reason: ([\w-]+)", first)  # (not the task's key)
        why = reason.group(1) if reason else first or type(exc).__name__
        raise UsageError(SCHEDULER_LOST.format(address=address, why=why)) from None
    finally:
        lost = client.status != "running"
        try:  # (a lost client's reconnection, cancelled by the close, logs a traceback)
            with _no_logging() if lost else contextlib.nullcontext():
                client.close()
        finally:
            log.setLevel(level)


def _close_quietly(client: Any, cluster: Any) -> None:
    """Close the client and the LocalCluster this run started, with the cluster's own
    logging off while it shuts down: the run's results are in by then, and a worker
    whose heartbeat meets the scheduler already gone logs "Failed to communicate with
    scheduler during heartbeat" and a traceback on ebutool's stderr (seen in
    benchmarks/scale_out.py, 2026-12-06), noise that says nothing about the run.  The
    workers are this run's own processes (a scheduler at an address is left alone)."""
    with contextlib.suppress(Exception):  # (a worker already gone: nothing to quiet)
        client.run(_logging_off)
    with _no_logging():  # the scheduler and nannies of this process
        client.close()
        cluster.close()


@contextlib.contextmanager
def _no_logging() -> Iterator[None]:
    """No log record of this process in the block (logging.disable), as it was after."""
    held = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(held)


def _logging_off() -> None:
    """(Run on each worker of a LocalCluster as it is closed) no more log records."""
    logging.disable(logging.CRITICAL)


def warm_worker() -> str:
    """(Run on each worker at the start) import what the tasks need: the reader chain,
    Parquet and the analysis (lazy imports would otherwise be paid inside the first task
    of every worker); the worker's :func:`ebutool_build`."""
    import pyarrow.parquet  # noqa: F401

    import ebutool.analysis.by_group  # noqa: F401
    import ebutool.oracle.scheduled  # noqa: F401
    import ebutool.store.writer  # noqa: F401
    import ebutool.stream.reader  # noqa: F401

    return ebutool_build()


def ebutool_build() -> str:
    """ "VERSION DIGEST": ebutool's version and the first 12 hex digits of a SHA-256 of
    its source files (each file's path in the package and its octets): what a task runs.
    About 20 ms."""
    import hashlib
    from pathlib import Path

    from ebutool.core.version import __version__

    root = Path(__file__).resolve().parents[1]  # the ebutool package (ebutool/runner/..)
    digest = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        digest.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() + b"\0")
    return f"{__version__} {digest.hexdigest()[:12]}"


def check_same_ebutool(builds: dict[str, Any]) -> None:
    """UsageError naming a worker whose ebutool (``builds``: worker -> its build) is not
    this process's: its tasks would extract and analyse by other code than this version,
    and the table put together here could silently differ."""
    here = ebutool_build()
    for worker, there in sorted(builds.items()):
        if not isinstance(there, str):  # (an ebutool before this check: its CPU time)
            there = "of an earlier version (its warm-up reports no build)"
        if there != here:
            raise UsageError(
                f"worker {worker} runs ebutool {there}, this run {here} (version, digest of "
                "the sources): install this ebutool on every worker and restart them"
            )


def _missing(paths: Sequence[str], store: str) -> list[str]:
    """(Run on each worker) the inputs and store this worker cannot see."""
    gone = [p for p in paths if not os.path.exists(p)]
    if not os.path.isdir(store):
        gone.append(store)
    return gone


def check_visible(client: Any, paths: Sequence[str], store: str) -> None:
    """UsageError naming a worker that does not see an input or the store (inputs that
    this process does not see either are left to fail as files, named and counted)."""
    here = [p for p in paths if os.path.exists(p)]
    for worker, gone in sorted(client.run(_missing, here, store).items()):
        if gone:
            more = f" and {len(gone) - 1} more" if len(gone) > 1 else ""
            raise UsageError(
                f"worker {worker} cannot see {gone[0]}{more}: the inputs and the store must "
                "be at the same path on every worker (a shared file system)"
            )


def dask_mapper(client: Any, retries: int = TASK_RETRIES):
    """A mapper for :func:`ebutool.store.extract` that runs each file as a task."""
    distributed = _distributed()

    def run(task, paths: Sequence[str], store: str) -> Iterator[PartResult]:
        full = [os.path.abspath(p) for p in paths]  # (the workers' working directories differ)
        check_visible(client, full, store)
        named = "named" in inspect.signature(task).parameters
        futures = client.map(
            _as_named, full, list(paths), task=task, store=store, named=named,
            pure=False, retries=retries,
        )  # fmt: skip
        for fut in distributed.as_completed(futures):
            yield fut.result()

    return run


def _as_named(full: str, given: str, task, store: str, named: bool) -> PartResult:
    """(Run on a worker) ``task`` on the absolute path ``full`` of the input named
    ``given``: the part records ``given`` (``named``: the task takes it, as
    extract_file does), so its label is the one extracting in one process gives."""
    result = task(full, store, named=given) if named else task(full, store)
    return replace(result, path=given)


def extract_files(
    paths: Sequence[str | os.PathLike[str]],
    store: str | os.PathLike[str],
    jobs: int = 1,
    *,
    cluster: str | None = None,
    task: Callable[[str, str], PartResult] = extract_file,
    on_result: Callable[[PartResult, int, int], None] | None = None,
    say: Callable[[str], None] | None = None,
    esp_sas: Sequence[EspSA] | None = None,
    vantage: dict[str, str] | None = None,
    prune: bool = False,
) -> ExtractReport:
    """:func:`ebutool.store.extract`, on the Dask cluster ``cluster`` when given (module
    doc), else in ``jobs`` local processes.  Each task is handed its input's absolute
    path, and records it as named here (:func:`_as_named`).
    ``esp_sas``: ESP SAs to decrypt with (sent to the workers with the task);
    ``vantage``: {path or base name: role} (extract --vantage); ``prune``: remove the
    parts of inputs that are gone (extract --prune)."""
    if cluster is None:
        return extract(
            paths, store, jobs, task=task, on_result=on_result, esp_sas=esp_sas,
            vantage=vantage, prune=prune,
        )  # fmt: skip
    with dask_client(cluster, say) as client:
        return extract(
            paths,
            os.path.abspath(os.fspath(store)),
            mapper=dask_mapper(client),
            task=task,
            on_result=on_result,
            esp_sas=esp_sas,
            vantage=vantage,
            prune=prune,
        )


# --- analysis of a record store, split by mobile node -------------------------------------

GROUPS_PER_WORKER = 2  # tasks per Dask worker: its queue balances groups of unequal size
# tasks per process of ``analyze STORE -j N`` (ebutool.runner.forked): the processes end
# within about one task (~1/8 of a process's share) of each other
GROUPS_PER_PROCESS = 8


def dask_group_mapper(client: Any, retries: int = TASK_RETRIES):
    """A mapper for :func:`ebutool.store.grouped.analyze_store_grouped`: one task per
    group, the results in the groups' order."""

    def run(func, tasks):
        import dask

        # The groups' records travel inside the task graph on purpose: a task whose
        # worker dies is retried from it (scattered data would die with the worker).
        # Dask's "Sending large graph" warning (from 10 MB) would only be noise here.
        with dask.config.set({"distributed.admin.large-graph-warning-threshold": "4GB"}):
            futures = client.map(func, list(tasks), pure=False, retries=retries)
        return client.gather(futures)

    return run


def analyze_store_split(
    store: str | os.PathLike[str],
    jobs: int = 1,
    *,
    cluster: str | None = None,
    say: Callable[[str], None] | None = None,
    vantage: dict[str, str] | str | None = None,
    clock_offsets: dict[str, tuple[float, float]] | None = None,
    **options: Any,
):
    """The episode table of a record store, its analysis split by mobile node
    (:func:`ebutool.store.grouped.analyze_store_grouped`) into tasks on the Dask
    cluster ``cluster`` (module doc), else in ``jobs`` local processes.  ``options``:
    those of ebutool.store.analyze_store.  The same table as one process gives.
    A store of several vantage points (views of one run, ebutool.store.vantages) is merged
    in this process, with a note: the clocks are estimated over the whole run, which a
    split by mobile node would cut (no cluster is started)."""
    from ebutool.store import analyze_store, store_parts
    from ebutool.store.grouped import analyze_store_grouped
    from ebutool.store.vantages import (
        VIEWS_NOT_SPLIT,
        given_roles,
        time_merged_role,
        views_in_store,
    )

    parts = store_parts(os.fspath(store))
    given = given_roles(parts, vantage)
    if views_in_store(parts, given):
        if say is not None:
            say(VIEWS_NOT_SPLIT)
        return analyze_store(store, vantage=vantage, clock_offsets=clock_offsets, **options)
    options["vantage"] = time_merged_role(parts, given)
    if cluster is None:
        from ebutool.runner.forked import MAX_TASKS, fork_mapper
        from ebutool.store.grouped import import_for_frame

        # several tasks per process, each process taking the next one left: they end
        # within about a task of each other, whatever the speed of each (this process
        # imports pandas for the table first, while the children take the first tasks)
        return analyze_store_grouped(
            store,
            mapper=fork_mapper(jobs, first=import_for_frame),
            groups=min(MAX_TASKS, jobs * GROUPS_PER_PROCESS) if jobs > 1 else 1,
            shared=True,
            log=say,
            **options,
        )
    root = os.fspath(store)
    with dask_client(cluster, say) as client:  # (the tasks carry their records: no shared store)
        workers = max(1, worker_count(client))
        return analyze_store_grouped(
            root,
            mapper=dask_group_mapper(client),
            groups=workers * GROUPS_PER_WORKER,
            log=say,
            **options,
        )
