"""Benchmark ebutool's reading and analysis against the record-walk floor and tshark.

    python benchmarks/run.py                        # 1,000,000 packets (generated if missing)
    python benchmarks/run.py --packets 200000 --repeat 3
    python benchmarks/run.py --scale 4              # also a 4x capture: is peak memory flat?

Every measurement runs in its own subprocess (``python benchmarks/run.py --child ...``)
so that each has its own peak resident set size (``VmHWM``, see :func:`peak_rss_mb`).
Times are CPU seconds
(user + system: ``time.process_time`` in the child, ``RUSAGE_CHILDREN`` for tshark), the
best of ``--repeat`` runs: on a shared machine wall-clock time measures the neighbours
(wall times are kept in the JSON output).  Measurements, on the same file, for pcap and pcapng:

  floor      pure Python ``struct`` loop over the record headers (pcap: 16-octet record
             headers; pcapng: block type/length), reading into one bytearray with
             readinto (the I/O the fast path uses): the least a pure-Python reader does
  floor_simple  the same loop with plain 1 MiB reads and concatenation (for reference)
  reference  the straightforward decoder (``records_from_frames(open_frames(...))``,
             every frame through every layer), for comparison
  records    ``read_records`` (the fast path) consumed, nothing else
  decode     ``ebutool.report.message_table.decode_frame(read_records(...))``
             (the decode command's table)
  analyze    ``ebutool.analysis.analyze(path)`` (the analyze command's table, with the
             CN oracle) -- falls back to the record stream if analysis is missing
  analyze .gz/.zst  ``analyze`` of the pcap compressed with gzip and with zstd
             (benchmarks/compressed.py; made once beside it), beside the plain one
             (``--no-compressed`` skips them)
  analyze_esp  (``--esp``) ``analyze`` of the ESP-protected variant of the pcap
             (benchmarks/esp_variant.py: tunnelled HoTI/HoT in ESP) with its SAs; the
             report gives its time over the clear capture's (issue 14: <= 1.2)
  tshark     ``tshark -r FILE -Y mipv6 -T fields -e frame.number`` (if installed); with
             ``--tshark-packets K`` it runs on a K-packet prefix and is scaled linearly
  help       ``ebutool --help`` start-up against the bare interpreter and ``import pandas``
             (benchmarks/help_timing.py; CPU seconds; ``--no-help-timing`` skips it)

Each child does its work twice: "cold" is the first run in a fresh process (what one
``ebutool analyze`` invocation costs after its imports), "warm" the second (the per-packet
rate without one-time costs such as lazy imports and first pandas calls).  Prints
packets/s (cold), peak RSS (MB, over both runs) and the ratios of each to the floor (of
the same format) and to tshark; ``--json FILE`` saves the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

KINDS = ("floor", "floor_simple", "reference", "records", "decode", "analyze")


# --- the measured work (run in a child process) -------------------------------------------

try:  # imported as a package (the tests)
    from benchmarks import compressed
    from benchmarks.floors import (
        floor_pcap,
        floor_pcap_simple,
        floor_pcapng,
        floor_pcapng_simple,
    )
    from benchmarks.help_timing import help_lines, measure_help
except ImportError:  # run as a script: benchmarks/ is sys.path[0]
    import compressed  # type: ignore[no-redef]
    from floors import floor_pcap, floor_pcap_simple, floor_pcapng, floor_pcapng_simple
    from help_timing import help_lines, measure_help


def work(kind: str, path: str) -> int:
    from ebutool.core.diagnostics import Diagnostics
    from ebutool.records.from_packet import StreamStats

    if kind == "floor":
        return floor_pcapng(path) if path.endswith(".pcapng") else floor_pcap(path)
    if kind == "floor_simple":
        return floor_pcapng_simple(path) if path.endswith(".pcapng") else floor_pcap_simple(path)
    if kind == "reference":
        from ebutool.capture import open_frames
        from ebutool.stream.reader import records_from_frames

        diag, stats = Diagnostics(), StreamStats()
        for _ in records_from_frames(open_frames(path, diag), diag, stats):
            pass
        return stats.frames
    if kind == "records":
        from ebutool.stream.reader import read_records

        diag, stats = Diagnostics(), StreamStats()
        for _ in read_records(path, diag, stats):
            pass
        return stats.frames
    if kind == "decode":
        from ebutool.report.message_table import decode_frame
        from ebutool.stream.reader import read_records

        diag, stats = Diagnostics(), StreamStats()
        decode_frame(read_records(path, diag, stats))
        return stats.frames
    if kind == "analyze_esp":  # the ESP variant, with its SAs (esp_variant.py)
        from ebutool.analysis import analyze
        from ebutool.esp import load_sa_files

        diag, stats = Diagnostics(), StreamStats()
        sas = load_sa_files([str(Path(path).with_suffix(".esp.json"))])
        analyze(path, diag=diag, stats=stats, esp_sas=sas)
        assert not diag.counts.get("esp_icv_mismatch"), "the ESP variant does not decrypt"
        return stats.frames
    if kind == "analyze":
        diag, stats = Diagnostics(), StreamStats()
        try:
            from ebutool.analysis import analyze
        except ImportError:
            from ebutool.stream.reader import read_records

            for _ in read_records(path, diag, stats):
                pass
        else:
            analyze(path, diag=diag, stats=stats)
        return stats.frames
    raise SystemExit(f"unknown kind {kind}")


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB.  Linux's ``VmHWM`` where there is one:
    ``ru_maxrss`` survives ``exec``, so a child would report at least its parent's size
    at fork time (a driver that generated a capture in-process is large)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(kind: str, path: str) -> None:
    # Import what the measured code imports before the clock starts: start-up cost is
    # not per-packet work (it is reported separately as "baseline MB").
    import ebutool.stream.reader

    if kind in ("analyze", "analyze_esp"):
        try:
            import ebutool.analysis
            from ebutool.analysis import make_oracle

            make_oracle()
        except ImportError:
            pass
    if kind == "decode":
        import ebutool.report.message_table  # noqa: F401
    if kind == "analyze_esp":  # ESP decryption and the cryptography library, loaded lazily
        import ebutool.esp.decrypt  # noqa: F401
    base = peak_rss_mb()
    t, w = time.process_time(), time.perf_counter()
    n = work(kind, path)
    dt, wall = time.process_time() - t, time.perf_counter() - w
    peak = peak_rss_mb()
    # The same work again in the same process: without the one-time costs (lazy imports,
    # first pandas calls, caches), i.e. the per-packet rate of a long run.
    t = time.process_time()
    work(kind, path)
    warm = time.process_time() - t
    print(
        json.dumps(
            {
                "kind": kind,
                "seconds": dt,
                "warm": warm,
                "wall": wall,
                "packets": n,
                "peak_mb": peak,
                "base_mb": base,
            }
        )
    )


# --- the driver ---------------------------------------------------------------------------


def measure(kind: str, path: Path, repeat: int) -> dict:
    best = None
    for _ in range(repeat):
        best = _keep_best(best, measure_once(kind, path))
    return best


def measure_once(kind: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _keep_best(best: dict | None, r: dict) -> dict:
    """The run with the least CPU time; peak MB is the largest of all runs, warm the least."""
    if best is None:
        return r
    keep = r if r["seconds"] < best["seconds"] else best
    return dict(keep, peak_mb=max(r["peak_mb"], best["peak_mb"]), warm=min(r["warm"], best["warm"]))


def measure_tshark(
    path: Path, packets: int, prefix: int | None, repeat: int, tmp: Path
) -> dict | None:
    """tshark's CPU time on ``path``.  With ``prefix`` it runs on the first ``prefix``
    packets and is scaled to ``packets``: only the per-packet part is scaled, tshark's
    start-up (dissector registration, timed on a 1-packet prefix) is counted once."""
    if shutil.which("tshark") is None:
        return None
    if not prefix or prefix >= packets:
        t = _time_tshark(path, repeat)
        return dict(
            t,
            kind="tshark",
            packets=packets,
            measured_packets=packets,
            startup_seconds=None,
            measured_seconds=t["seconds"],
            peak_mb=None,
            base_mb=None,
        )
    t = _time_tshark(_prefix_file(path, prefix, tmp), repeat)
    startup = _time_tshark(_prefix_file(path, 1, tmp), repeat)["seconds"]
    per_packet = max(t["seconds"] - startup, 0.0) / prefix
    return {
        "kind": "tshark",
        "seconds": startup + per_packet * packets,
        "measured_seconds": t["seconds"],
        "startup_seconds": startup,
        "wall": t["wall"] * packets / prefix,
        "packets": packets,
        # (wall time is scaled whole, start-up included: a rough figure, not a target)
        "measured_packets": prefix,
        "rows": t["rows"],
        "peak_mb": None,
        "base_mb": None,
    }


def _prefix_file(path: Path, k: int, tmp: Path) -> Path:
    target = tmp / f"prefix_{k}{path.suffix}"
    if not target.exists():
        if shutil.which("editcap"):
            subprocess.run(
                ["editcap", "-r", str(path), str(target), f"1-{k}"], check=True, capture_output=True
            )
        else:
            _prefix(path, target, k)
    return target


def _time_tshark(target: Path, repeat: int) -> dict:
    best = None
    for _ in range(repeat):
        t, w = _children_cpu(), time.perf_counter()
        out = subprocess.run(
            [
                "tshark",
                "-n",
                "-r",
                str(target),
                "-Y",
                "mipv6",
                "-T",
                "fields",
                "-e",
                "frame.number",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        dt, dw = _children_cpu() - t, time.perf_counter() - w
        if best is None or dt < best["seconds"]:
            best = {"seconds": dt, "wall": dw, "rows": len(out.stdout.split())}
    return best


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _prefix(path: Path, target: Path, k: int) -> None:
    from ebutool.capture import open_frames
    from ebutool.core.diagnostics import Diagnostics
    from ebutool.wire.build import write_pcap

    frames = []
    for fr in open_frames(path, Diagnostics()):
        frames.append((fr.ts_ns, fr.data))
        if len(frames) >= k:
            break
    with open(target, "wb") as fh:
        write_pcap(fh, frames, linktype=1)


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import ebutool  # which checkout is measured (PYTHONPATH, else the installed one)

    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "ebutool": str(Path(ebutool.__file__).parent),
    }


def measure_esp(clear: Path, repeat: int) -> dict:
    """analyze on ``clear`` and on its ESP variant, alternated in each round: the ratio
    compares runs made under the same load (a shared machine's load drifts between rounds,
    so the clear analyze measured earlier in the run is not used)."""
    try:
        from benchmarks.esp_variant import esp_paths, make_esp_variant
    except ImportError:
        from esp_variant import esp_paths, make_esp_variant

    esp, _ = esp_paths(clear)
    if not esp.exists():
        print(f"making the ESP variant {esp} ...", file=sys.stderr)
        make_esp_variant(clear)
    out: dict = {}
    for rnd in range(repeat):
        print(f"  [{rnd + 1}/{repeat}] pcap analyze / analyze_esp ...", file=sys.stderr)
        out["pcap/analyze_clear"] = _keep_best(
            out.get("pcap/analyze_clear"), measure_once("analyze", clear)
        )
        out["pcap/analyze_esp"] = _keep_best(
            out.get("pcap/analyze_esp"), measure_once("analyze_esp", esp)
        )
    return out


# Issue 14: analyze of the ESP-protected capture within this factor of the clear one.
MAX_ESP_RATIO = 1.2


def esp_report(results: dict) -> list[str]:
    a, e = results.get("pcap/analyze_clear"), results.get("pcap/analyze_esp")
    if not (a and e):
        return []
    ratio = e["seconds"] / a["seconds"]
    return [
        f"pcap    analyze (alternated with analyze_esp)  {a['seconds']:7.3f} {a['warm']:7.3f}",
        f"pcap    analyze_esp  {e['seconds']:7.3f} {e['warm']:7.3f} "
        f"{e['packets'] / e['seconds']:11,.0f} {e['peak_mb']:8.1f} {e['base_mb']:8.1f}",
        f"ESP / clear analyze time (issue 14): {ratio:.2f}  <= {MAX_ESP_RATIO:g}  "
        f"{'met' if ratio <= MAX_ESP_RATIO else 'NOT MET'}",
    ]


def ensure_capture(n: int, seed: int, out: Path) -> dict[str, Path]:
    try:
        from benchmarks import gen_capture
    except ImportError:
        import gen_capture

    paths = {fmt: out / f"bench_{n}_s{seed}.{fmt}" for fmt in ("pcap", "pcapng")}
    if not all(p.exists() for p in paths.values()):
        print(f"generating {n} packets into {out} ...", file=sys.stderr)
        paths = gen_capture.generate(n, seed, out)
    return paths


def report(results: dict, packets: int) -> list[str]:
    lines = [
        f"{'format':7} {'measure':12} {'cold s':>7} {'warm s':>7} {'packets/s':>11} "
        f"{'peak MB':>8} {'base MB':>8} {'x floor':>8} {'tshark/x':>9} {'warm':>6}"
    ]
    tsh = results.get("tshark")
    for fmt in ("pcap", "pcapng"):
        floor = results.get(f"{fmt}/floor")
        for kind in KINDS:
            r = results.get(f"{fmt}/{kind}")
            if r is None:
                continue
            pps = r["packets"] / r["seconds"]
            xf = r["seconds"] / floor["seconds"] if floor else float("nan")
            xt = tsh["seconds"] / r["seconds"] if tsh else float("nan")
            xw = tsh["seconds"] / r["warm"] if tsh else float("nan")
            lines.append(
                f"{fmt:7} {kind:12} {r['seconds']:7.3f} {r['warm']:7.3f} {pps:11,.0f} "
                f"{r['peak_mb']:8.1f} {r['base_mb']:8.1f} {xf:8.2f} {xt:9.1f} {xw:6.1f}"
            )
    if tsh:
        note = (
            f" (measured on a {tsh['measured_packets']:,}-packet prefix in "
            f"{tsh['measured_seconds']:.2f} s, start-up {tsh['startup_seconds']:.2f} s, scaled)"
            if tsh["measured_packets"] != packets
            else ""
        )
        lines.append(
            f"pcap    tshark       {tsh['seconds']:7.3f} {'':7} {packets / tsh['seconds']:11,.0f}"
            f"{'':>18} {'':>8} {1.0:9.1f}{note}"
        )
    a, b = results.get("pcap/analyze"), results.get("pcapng/analyze")
    if a and b:
        lines.append(f"pcapng/pcap analyze time: {b['seconds'] / a['seconds']:.2f}")
    return lines


# The targets (issue 6); "flat" memory: the x-scale capture's peak RSS within
# FLAT_TOLERANCE of the 1x capture's.
MAX_X_FLOOR, MIN_X_TSHARK, MAX_PCAPNG_RATIO, MAX_PEAK_MB, FLAT_TOLERANCE = (
    3.0,
    40.0,
    1.5,
    150.0,
    0.05,
)


def targets(results: dict, scale: int | None) -> list[str]:
    """One line per target of issue 6 that these results can judge: value, bound, met?"""
    out = []

    def line(what: str, value: float, bound: str, ok: bool) -> None:
        out.append(f"  {what:44} {value:8.2f}  {bound:8}  {'met' if ok else 'NOT MET'}")

    a, fl, ng, tsh = (
        results.get(k) for k in ("pcap/analyze", "pcap/floor", "pcapng/analyze", "tshark")
    )
    if a and fl:
        line(
            "analyze pcap / floor (cold)",
            a["seconds"] / fl["seconds"],
            f"<= {MAX_X_FLOOR:g}",
            a["seconds"] / fl["seconds"] <= MAX_X_FLOOR,
        )
    if a and tsh:
        line(
            "tshark / analyze pcap (cold)",
            tsh["seconds"] / a["seconds"],
            f">= {MIN_X_TSHARK:g}",
            tsh["seconds"] / a["seconds"] >= MIN_X_TSHARK,
        )
    if a and ng:
        line(
            "analyze pcapng / pcap",
            ng["seconds"] / a["seconds"],
            f"<= {MAX_PCAPNG_RATIO:g}",
            ng["seconds"] / a["seconds"] <= MAX_PCAPNG_RATIO,
        )
    for fmt in ("pcap", "pcapng"):
        r = results.get(f"{fmt}/analyze")
        big = results.get(f"{fmt}/analyze/x{scale}") if scale else None
        if r:
            peak = max(r["peak_mb"], big["peak_mb"] if big else 0)
            line(f"analyze {fmt} peak RSS MB", peak, f"< {MAX_PEAK_MB:g}", peak < MAX_PEAK_MB)
        if r and big:
            growth = big["peak_mb"] / r["peak_mb"] - 1
            line(
                f"analyze {fmt} peak growth at x{scale} (fraction)",
                growth,
                f"<= {FLAT_TOLERANCE:g}",
                growth <= FLAT_TOLERANCE,
            )
    return ["targets (issue 6):"] + out if out else []


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--packets", "-n", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", type=Path, default=HERE / "data", help="where captures are kept")
    ap.add_argument("--repeat", type=int, default=2, help="runs per measurement (best time)")
    ap.add_argument(
        "--only",
        default=",".join(KINDS),
        help=f"comma list of measurements: {', '.join(KINDS)}, tshark (default: all)",
    )
    ap.add_argument(
        "--tshark-packets",
        type=int,
        default=None,
        help="time tshark on a prefix of this many packets and scale",
    )
    ap.add_argument("--no-tshark", action="store_true")
    ap.add_argument(
        "--no-help-timing", action="store_true", help="skip the ebutool --help start-up timing"
    )
    ap.add_argument(
        "--scale",
        type=int,
        default=None,
        help="also measure peak memory of analyze/records on a capture this many times larger",
    )
    ap.add_argument(
        "--scale-out",
        type=int,
        default=None,
        metavar="PIECES",
        help="also cut the pcap into PIECES rotated files: extract -j 1 vs --cluster local:2, "
        "store size, analyze STORE vs --merge (benchmarks/scale_out.py; needs Dask)",
    )
    ap.add_argument(
        "--no-compressed",
        action="store_true",
        help="skip analyze on the gzip and zstd forms of the pcap (made once if missing)",
    )
    ap.add_argument(
        "--esp",
        action="store_true",
        help="also analyze the ESP-protected variant of the pcap (made if missing)",
    )
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    ap.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0

    kinds = [k for k in args.only.split(",") if k]
    unknown = sorted(set(kinds) - set(KINDS) - {"tshark"})
    if unknown:
        ap.error(
            f"--only: unknown measurement(s) {', '.join(unknown)}; "
            f"choose from {', '.join(KINDS)}, tshark"
        )
    with_tshark = not args.no_tshark and ("tshark" in kinds or args.only == ap.get_default("only"))
    kinds = [k for k in kinds if k != "tshark"]
    paths = ensure_capture(args.packets, args.seed, args.data)
    results: dict = {
        "machine": machine(),
        "packets": args.packets,
        "command": " ".join([Path(sys.executable).name] + sys.argv),
    }
    # Round robin (every measurement once, then again): a slow spell of the machine then
    # touches all measurements alike instead of one of them.
    for rnd in range(args.repeat):
        for fmt in ("pcap", "pcapng"):
            for kind in kinds:
                print(f"  [{rnd + 1}/{args.repeat}] {fmt} {kind} ...", file=sys.stderr)
                key = f"{fmt}/{kind}"
                results[key] = _keep_best(results.get(key), measure_once(kind, paths[fmt]))
    if "analyze" in kinds and not args.no_compressed:
        results.update(compressed.measure(paths["pcap"], args.repeat, measure_once, _keep_best))
    if args.esp:
        results.update(measure_esp(paths["pcap"], args.repeat))
    if with_tshark:
        print("  tshark ...", file=sys.stderr)
        t = measure_tshark(paths["pcap"], args.packets, args.tshark_packets, args.repeat, args.data)
        if t is not None:
            results["tshark"] = t
    lines = report(results, args.packets) + esp_report(results)
    lines += compressed.lines(results, "pcap/analyze", paths["pcap"].stat().st_size / 1e6)
    if args.scale:
        big = ensure_capture(args.packets * args.scale, args.seed, args.data)
        lines.append(
            f"memory flatness, {args.packets:,} vs {args.packets * args.scale:,} packets "
            "(peak RSS MB):"
        )
        for kind in ("records", "analyze"):
            for fmt in ("pcap", "pcapng"):
                small = results.get(f"{fmt}/{kind}") or measure(kind, paths[fmt], 1)
                large = measure(kind, big[fmt], 1)
                results[f"{fmt}/{kind}/x{args.scale}"] = large
                lines.append(
                    f"  {fmt:7} {kind:8} {small['peak_mb']:7.1f} -> {large['peak_mb']:7.1f}"
                    f"   ({large['packets'] / large['seconds']:,.0f} packets/s at x{args.scale})"
                )
    lines += targets(results, args.scale)
    if not args.no_help_timing:
        print("  ebutool --help ...", file=sys.stderr)
        results["help"] = measure_help(args.repeat)
        lines += help_lines(results["help"])
    if args.scale_out:
        try:
            from benchmarks import scale_out
        except ImportError:
            import scale_out  # type: ignore[no-redef]

        results["scale_out"] = scale_out.measure(
            paths["pcap"], args.data, args.scale_out, rounds=args.repeat
        )
        lines += scale_out.lines(results["scale_out"])
    m = results["machine"]
    print(
        f"# {m['cpu']}, nproc {m['nproc']}, Python {m['python']}, {args.packets:,} packets, "
        f"best of {args.repeat}; ebutool from {m['ebutool']}"
    )
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    # After PYTHONPATH and the installed package: PYTHONPATH=/other/checkout measures that code.
    sys.path.append(str(REPO))
    raise SystemExit(main())
