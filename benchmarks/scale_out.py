"""Scale-out figures (issue 16): extract on a 2-worker Dask cluster, store size, analyze STORE.

    python benchmarks/run.py --packets 8000000 --scale-out 8 --only floor --no-tshark

The benchmark capture is cut into ``pieces`` rotated files (whole records, in time
order, as ``tcpdump -C`` writes them); then, wall-clock seconds (the cluster's work
is spread over processes, so CPU time of this process says nothing):

  extract -j 1          ebutool.store.extract in this process, a fresh store
  extract local:2       the same through a 2-worker LocalCluster (its start-up timed
                        apart and excluded), a fresh store (alternated with -j 1 and
                        the two at once below, each its best of run.py's --repeat
                        rounds); the workers' CPU, and this
                        process's (the client and the scheduler, on the same cores);
                        peak RSS of each worker, and again with a fresh cluster on half
                        of the files (flat in the number of files: the same)
  extract, two at once  two forked processes (imports done) extracting half of the
                        files each at the same time, no Dask: what "ideal" can be on
                        this machine (its two cores may not give twice one core)
  store / captures      octets of the store over octets of the captures
  analyze STORE         ``ebutool analyze STORE -q`` (a subprocess), and with ``-j 2``
  analyze --merge       ``ebutool analyze --merge DIR -q`` (a subprocess), and with ``-j 2``
                        (the four run back to back in each of --repeat rounds, each
                        its best, and the ratio of every round printed too)
  ... in process        both again in this process, imports done (CPU s, best of 2)
  analyze STORE, one process / --cluster local:2
                        the store analysed in this process, and split by mobile node
                        on the 2 workers (ebutool.store.grouped; the same table,
                        checked), back to back, wall s, best of 2

The machine's load average is printed with the figures: on a shared machine the wall
times (and the ratios made of them) say as much about the neighbours as about ebutool.

Targets: extract local:2 within 1.25x of the ideal two-core time (jobs-1 time / 2),
the store at most 3% of the captures, analyze STORE at least 5x faster than --merge
(wall; each path at its best on this machine: the faster of ``-j 1`` and ``-j 2``, the
four commands run back to back, every one printed),
and a worker's peak memory flat in the number of files (all the files against half of
them: at most PEAK_GROWTH_MAX more).
"""

from __future__ import annotations

import os
import resource
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

PEAK_GROWTH_MAX = 0.05  # "flat": a worker's peak RSS on all files <= 1.05x on half of them


def split_pcap(src: Path, folder: Path, pieces: int) -> list[Path]:
    """``src`` (classic pcap) cut into ``pieces`` files of about equal size."""
    data = src.read_bytes()
    order = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    head, pos, cuts = data[:24], 24, [24]
    target = (len(data) - 24) / pieces
    while pos + 16 <= len(data):
        pos += 16 + struct.unpack_from(order + "I", data, pos + 8)[0]
        if pos - 24 >= target * len(cuts) and len(cuts) < pieces:
            cuts.append(pos)
    cuts.append(len(data))
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    out = []
    for i in range(len(cuts) - 1):
        p = folder / f"rot-{i:03d}.pcap"
        p.write_bytes(head + data[cuts[i] : cuts[i + 1]])
        out.append(p)
    return out


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _worker_peak_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _cli_seconds(*args: str) -> tuple[float, float]:
    """(wall, CPU) seconds of one ``ebutool`` command in a subprocess."""
    start, cpu = time.perf_counter(), _children_cpu()
    subprocess.run(
        [sys.executable, "-m", "ebutool", *args, "-q", "-f", "csv", "-o", os.devnull],
        check=True,
    )
    return time.perf_counter() - start, _children_cpu() - cpu


def _compile_ebutool() -> None:
    """Write ebutool's bytecode (__pycache__) before the commands are timed, as a wheel
    install does.  Without it an editable install under PYTHONDONTWRITEBYTECODE=1 (this
    project's machines) compiles ebutool's ~110 modules again in every command: ~0.1 s
    of CPU (2026-12-03, load 5), the same in both commands, not the analysis' cost."""
    import compileall

    import ebutool

    compileall.compile_dir(os.path.dirname(ebutool.__file__), quiet=1)


def _best(out: dict, key: str, wall: float, **more: float) -> None:
    """Keep ``wall`` (and ``more``, the figures measured with it) under ``key`` when it
    is the best so far: on a shared machine the best of several runs is the one least
    disturbed by the neighbours (run.py's module doc); every round's wall time goes to
    the list ``<key without _s>_rounds``, printed as each round's ratio."""
    out.setdefault(key.removesuffix("_s") + "_rounds", []).append(wall)
    if wall < out.get(key, float("inf")):
        out[key] = wall
        out.update(more)


ANALYZE_COMMANDS = {  # the four commands of the ratio (module doc), run back to back
    "analyze_store": ("{store}",),
    # split by mobile node over two local processes (forked after the imports)
    "analyze_store_j2": ("-j", "2", "{store}"),
    "analyze_merge": ("--merge", "{folder}"),
    # --merge given the same chance as the store (-j 2 reads the files in two processes)
    "analyze_merge_j2": ("--merge", "-j", "2", "{folder}"),
}


def measure(capture: Path, work: Path, pieces: int = 8, rounds: int = 1) -> dict:
    """The figures of the module doc, for ``capture`` cut into ``pieces`` files; each
    wall time the best of ``rounds`` (run.py's --repeat), the three extracts alternated
    and the four analyze commands run back to back in each round."""
    from ebutool.runner.cluster import dask_client, dask_mapper
    from ebutool.store import extract

    folder = work / "rotated"
    files = split_pcap(capture, folder, pieces)
    out: dict = {"pieces": len(files), "captures_octets": sum(f.stat().st_size for f in files)}
    store1, store2 = work / "store-j1", work / "store-local2"
    rounds = max(1, rounds)
    for rnd in range(rounds):
        for s in (store1, store2):
            shutil.rmtree(s, ignore_errors=True)
        t, cpu = time.perf_counter(), time.process_time()
        extract([folder], store1, 1)  # (no cluster running meanwhile)
        wall = time.perf_counter() - t
        _best(out, "extract_j1_s", wall, extract_j1_cpu_s=time.process_time() - cpu)
        _best(out, "extract_twin_s", _two_at_once(files, work))
        t = time.perf_counter()
        with dask_client("local:2") as client:
            before = client.run(time.process_time)  # (dask_client imported what tasks need)
            out.setdefault("cluster_start_s", time.perf_counter() - t)
            t, cpu = time.perf_counter(), time.process_time()
            extract([folder], store2, mapper=dask_mapper(client))
            wall, main_cpu = time.perf_counter() - t, time.process_time() - cpu
            after = client.run(time.process_time)
            _best(
                out, "extract_local2_s", wall, extract_local2_main_cpu_s=main_cpu,
                extract_local2_cpu_s=sum(after[w] - before[w] for w in after),
            )  # fmt: skip
            if rnd == 0:  # (the peak of one extraction of every file, fresh workers)
                out["worker_peak_mb"] = sorted(client.run(_worker_peak_mb).values())
            if rnd == rounds - 1:
                out.update(_analysis_split(store2, client))
    out["worker_peak_mb_half"] = _half_peak(files[: max(1, len(files) // 2)], work)
    out["store_octets"] = _size(store1)
    _compile_ebutool()
    for _ in range(rounds):
        for key, args in ANALYZE_COMMANDS.items():
            argv = [a.format(store=store1, folder=folder) for a in args]
            wall, cpu = _cli_seconds("analyze", *argv)
            _best(out, f"{key}_s", wall, **{f"{key}_cpu_s": cpu})
    # In this process, imports done: the analysis itself, CPU seconds.
    import ebutool

    for key, args, kw in (("store", (store1,), {}), ("merge", (folder,), {"merge": True})):
        best = float("inf")
        for _ in range(2):  # the first call also pays one-time costs (lazy imports)
            cpu = time.process_time()
            ebutool.analyze(*args, **kw)
            best = min(best, time.process_time() - cpu)
        out[f"analyze_{key}_inproc_cpu_s"] = best
    out["load_average"] = os.getloadavg()
    return out


def _two_at_once(files: list[Path], work: Path) -> float:
    """Wall s of two forked processes (imports done, as ``extract -j 1`` here) each
    extracting half of ``files`` into a store of its own, at the same time: what two
    cores of this machine give without Dask, the reference of "ideal" (2026-12-04: the
    two ran 1.12-1.36x slower than one alone on this VM, no scheduler involved)."""
    from ebutool.store import extract

    cut = len(files) // 2
    halves, pids = [files[:cut], files[cut:]], []
    stores = [work / "store-twin-a", work / "store-twin-b"]
    for store in stores:
        shutil.rmtree(store, ignore_errors=True)
    t = time.perf_counter()
    for half, store in zip(halves, stores, strict=True):
        pid = os.fork()
        if pid == 0:  # (a child: its exit status says whether it extracted)
            code = 1
            try:
                extract(half, store, 1)
                code = 0
            finally:
                os._exit(code)
        pids.append(pid)
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
    wall = time.perf_counter() - t
    if any(codes):
        raise RuntimeError(f"a twin extraction failed: exit codes {codes}")
    return wall


def _half_peak(files: list[Path], work: Path) -> list[float]:
    """Peak RSS MB of each worker of a fresh 2-worker cluster that extracts ``files``."""
    from ebutool.runner.cluster import dask_client, dask_mapper
    from ebutool.store import extract

    store = work / "store-half"
    shutil.rmtree(store, ignore_errors=True)
    with dask_client("local:2") as client:
        extract(files, store, mapper=dask_mapper(client))
        return sorted(client.run(_worker_peak_mb).values())


def _analysis_split(store: Path, client) -> dict:
    """analyze STORE in this process, and split by mobile node on ``client``'s workers
    (the same table), back to back, best wall time of 2 each (imports done)."""
    import pandas as pd

    from ebutool.runner.cluster import GROUPS_PER_WORKER, dask_group_mapper
    from ebutool.store import analyze_store
    from ebutool.store.grouped import analyze_store_grouped

    workers = len(client.scheduler_info()["workers"])
    best = {"analyze_store_one_s": float("inf"), "analyze_store_local2_s": float("inf")}
    for _ in range(2):
        t = time.perf_counter()
        one = analyze_store(store)
        best["analyze_store_one_s"] = min(best["analyze_store_one_s"], time.perf_counter() - t)
        t = time.perf_counter()
        split = analyze_store_grouped(
            store, mapper=dask_group_mapper(client), groups=workers * GROUPS_PER_WORKER
        )
        best["analyze_store_local2_s"] = min(
            best["analyze_store_local2_s"], time.perf_counter() - t
        )
        pd.testing.assert_frame_equal(split, one)  # the figures are of the same table
    return best


def _round_ratios(r: dict) -> str:
    """The ratio of each round of the four commands, each path at its best in it."""
    four = [r.get(f"{k}_rounds", [r[f"{k}_s"]]) for k in ANALYZE_COMMANDS]
    out = [min(m1, m2) / min(s1, s2) for s1, s2, m1, m2 in zip(*four, strict=True)]
    return ", ".join(f"{x:.2f}x" for x in out)


def _round_extract(r: dict) -> str:
    j1 = r.get("extract_j1_rounds", [r["extract_j1_s"]])
    l2 = r.get("extract_local2_rounds", [r["extract_local2_s"]])
    return ", ".join(f"{b / (a / 2):.2f}" for a, b in zip(j1, l2, strict=True))


def lines(r: dict) -> list[str]:
    """The figures and the targets, as run.py prints them."""
    ideal = r["extract_j1_s"] / 2
    ratio_store = r["store_octets"] / r["captures_octets"]
    store_best = min(r["analyze_store_s"], r["analyze_store_j2_s"])
    merge_best = min(r["analyze_merge_s"], r["analyze_merge_j2_s"])
    speed = merge_best / store_best  # each path at its best (module doc)
    speed_1 = r["analyze_merge_s"] / r["analyze_store_s"]
    speed_2 = r["analyze_merge_j2_s"] / r["analyze_store_j2_s"]
    cluster_vs_ideal = r["extract_local2_s"] / ideal

    def ok(good: bool) -> str:
        return "met" if good else "NOT MET"

    peaks = ", ".join(f"{p:.0f}" for p in r["worker_peak_mb"])
    half = ", ".join(f"{p:.0f}" for p in r["worker_peak_mb_half"])
    load = ", ".join(f"{x:.1f}" for x in r["load_average"])
    overhead = r["extract_local2_cpu_s"] / r["extract_j1_cpu_s"]
    split = r["analyze_store_one_s"] / r["analyze_store_local2_s"]
    # the same work's CPU in two processes at once against one: above 1 when this
    # machine's two cores slow each other down (the extract's "two processes at once")
    j2_cpu = r["analyze_store_j2_cpu_s"] / r["analyze_store_cpu_s"]
    twin = r.get("extract_twin_s", float("nan"))  # (figures of before 2026-12-04 lack it)
    dask_vs_twin = r["extract_local2_s"] / twin
    growth = max(r["worker_peak_mb"]) / max(r["worker_peak_mb_half"])
    return [
        f"scale-out, {r['pieces']} rotated files ({r['captures_octets'] / 1e6:,.1f} MB); "
        f"load average {load}",
        f"  {'':30} {'wall s':>8} {'CPU s':>8}",
        f"  {'extract -j 1':30} {r['extract_j1_s']:8.2f} {r['extract_j1_cpu_s']:8.2f}",
        f"  {'extract --cluster local:2':30} {r['extract_local2_s']:8.2f} "
        f"{r['extract_local2_cpu_s']:8.2f}  (workers; start {r['cluster_start_s']:.2f} s "
        f"apart; client+scheduler CPU {r['extract_local2_main_cpu_s']:.2f} s)",
        f"  {'extract, two processes at once':30} {r.get('extract_twin_s', float('nan')):8.2f}"
        f"  (half of the files each, forked, no Dask: this machine's two cores)",
        f"  {'':30} worker peak RSS MB {peaks} ({r['pieces']} files), {half} "
        f"({max(1, r['pieces'] // 2)} files, fresh cluster)",
        f"  {'analyze STORE':30} {r['analyze_store_s']:8.2f} {r['analyze_store_cpu_s']:8.2f}",
        f"  {'analyze STORE -j 2':30} {r['analyze_store_j2_s']:8.2f} "
        f"{r['analyze_store_j2_cpu_s']:8.2f}  (split by mobile node, 2 processes)",
        f"  {'analyze --merge':30} {r['analyze_merge_s']:8.2f} {r['analyze_merge_cpu_s']:8.2f}",
        f"  {'analyze --merge -j 2':30} {r['analyze_merge_j2_s']:8.2f} "
        f"{r['analyze_merge_j2_cpu_s']:8.2f}  (the files read in 2 processes)",
        f"  {'analyze STORE, in process':30} {'':8} {r['analyze_store_inproc_cpu_s']:8.2f}",
        f"  {'analyze --merge, in process':30} {'':8} {r['analyze_merge_inproc_cpu_s']:8.2f}",
        f"  {'analyze STORE, one process':30} {r['analyze_store_one_s']:8.2f}",
        f"  {'analyze STORE --cluster local:2':30} {r['analyze_store_local2_s']:8.2f}  "
        "(split by mobile node, cluster started)",
        f"  {'store size MB':30} {r['store_octets'] / 1e6:8.3f}",
        "  ratio (measured back to back in this run)      value   target  status",
        f"  extract local:2 wall / ideal 2-core (j1 / 2) {cluster_vs_ideal:8.2f}  <= 1.25  "
        f"{ok(cluster_vs_ideal <= 1.25)}",
        f"  store / captures                             {ratio_store:8.4f}  <= 0.03  "
        f"{ok(ratio_store <= 0.03)}",
        f"  analyze --merge / analyze STORE (wall)       {speed:8.2f}  >= 5     {ok(speed >= 5)}",
        "  (each path its best of -j 1 and -j 2; -j 1 / -j 1 "
        f"{speed_1:.2f}, -j 2 / -j 2 {speed_2:.2f})",
        f"  (each round on its own: {_round_ratios(r)}; extract / ideal: {_round_extract(r)})",
        f"  worker peak RSS, all files / half of them    {growth:8.2f}  <= "
        f"{1 + PEAK_GROWTH_MAX:.2f}  {ok(growth <= 1 + PEAK_GROWTH_MAX)}",
        f"  (extract workers' CPU / -j 1 CPU             {overhead:8.2f}: the cluster's overhead)",
        f"  (two processes at once / ideal 2-core        {twin / ideal:8.2f}: the machine's own)",
        f"  (extract local:2 / two processes at once     {dask_vs_twin:8.2f}: Dask's)",
        f"  (analyze STORE one process / local:2 (wall)  {split:8.2f}: the analysis split)",
        f"  (analyze STORE -j 2 CPU / -j 1 CPU           {j2_cpu:8.2f}: two processes at once)",
    ]
