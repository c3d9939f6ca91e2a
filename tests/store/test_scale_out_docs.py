"""docs/scale-out.md's worked examples, run as the doc shows them.

The blocks are taken from the doc by their marker (``<!-- example: NAME -->`` before a
fenced block), so that editing the doc changes what is tested:

- ``hosts`` and ``worker-env``: a ``dask scheduler`` and two ``dask worker`` processes
  started with the doc's commands (on 127.0.0.1, free ports, one worker process each),
  then its ``ebutool extract ... --cluster tcp://...`` and ``ebutool analyze STORE``
  lines on a rotated sample kept in two day folders;
- ``jobqueue``: the SLURM script's arguments given to dask-jobqueue's own SLURMCluster and
  PBSCluster (no batch system: their job scripts are checked);
- ``query-setup``, ``duckdb`` and ``pandas``: the store and episode Parquet of the doc's
  worked example, the queries run on them, their results checked against the capture
  read by scapy and against the outputs the doc shows.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import hashlib
import inspect
import io
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from tests.support.cli import ROOT, SAMPLES
from tests.support.proc import env
from tests.support.splitcap import pcap_records, split_pcap

DOC = ROOT / "docs" / "scale-out.md"
ELLIPSIS = "..."


def doc_block(name: str) -> tuple[str, str]:
    """(info string, text) of the fenced block after ``<!-- example: NAME``."""
    text = DOC.read_text(encoding="utf-8")
    m = re.search(
        r"<!-- example: " + re.escape(name) + r"\b[^\n]*-->\n```(\w*)\n(.*?)\n```", text, re.S
    )
    assert m is not None, f"docs/scale-out.md has no example {name!r}"
    return m.group(1), m.group(2)


def shell_lines(block: str) -> list[str]:
    """The block's commands, continuation lines joined."""
    return [line for line in block.replace("\\\n", " ").splitlines() if line.strip()]


# --- several hosts: dask scheduler, dask worker, --cluster tcp:// ---------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(procs: list[subprocess.Popen]) -> None:
    """Workers first, then the scheduler; each in its own process group (the workers'
    nannies start worker processes)."""
    for p in reversed(procs):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGTERM)
    for p in reversed(procs):
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=15)


def _worker_settings(dask_worker) -> tuple:
    import dask

    ms = {k: pc.callback_time for k, pc in dask_worker.periodic_callbacks.items()}
    return (
        dask.config.get("distributed.worker.profile.enabled"),
        dask.config.get("distributed.admin.system-monitor.gil.enabled"),
        os.environ.get("MALLOC_TRIM_THRESHOLD_"),
        ms["tick"] >= 500 and ms["monitor"] >= 2000 and ms.get("memory_monitor", 1000) >= 1000,
    )


def test_hosts_example_on_one_machine(tmp_path, cli):
    """The doc's head/node commands, on 127.0.0.1: the store extracted by two workers
    started by hand gives, analysed on them (``--cluster tcp://``) and in one process
    (``--summary``), exactly what ``analyze --merge`` of the captures gives; and the
    rows are those of the capture before it was cut (but for ``source``)."""
    distributed = pytest.importorskip("distributed")
    _, hosts = doc_block("hosts")
    _, lean = doc_block("worker-env")
    port, dash = free_port(), free_port()
    addr = f"tcp://127.0.0.1:{port}"
    options = {"--port": str(port), "--dashboard-address": f"127.0.0.1:{dash}", "--nworkers": "1"}

    def localise(args: list[str]) -> list[str]:
        out = []
        for i, a in enumerate(args):
            a = options.get(args[i - 1], a) if i else a
            out.append(
                a.replace("tcp://head:8786", addr).replace("/shared/campaign", str(tmp_path))
            )
        return out

    commands = [shlex.split(re.sub(r"^\w+\$\s+", "", line)) for line in shell_lines(hosts)]
    scheduler = [c for c in commands if c[:2] == ["dask", "scheduler"]]
    workers = [c for c in commands if c[:2] == ["dask", "worker"]]
    ebutool_lines = [c for c in commands if c[0] == "ebutool"]
    assert len(scheduler) == 1 and len(workers) == 2 and ebutool_lines[0][1] == "extract"
    assert {c[0] for c in commands} == {"pip", "dask", "ebutool"}
    worker_env = dict(
        shlex.split(line)[1].split("=", 1)
        for line in lean.splitlines()
        if line.startswith("export ")
    )
    assert len(worker_env) == 6 and "dask worker tcp://head:8786" in lean

    pieces = split_pcap(SAMPLES / "mixed.pcap", tmp_path / "day1", 8, stem="mixed")
    (tmp_path / "day2").mkdir()
    for p in pieces[4:]:
        p.rename(tmp_path / "day2" / p.name)
    for host in ("head", "node1", "node2"):
        (tmp_path / host).mkdir()  # each its own working directory

    procs: list[subprocess.Popen] = []
    try:
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", *localise(scheduler[0]), "--host", "127.0.0.1"],
                cwd=tmp_path / "head",
                env=env(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
        for node, w in zip(("node1", "node2"), workers, strict=True):
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", *localise(w)],
                    cwd=tmp_path / node,
                    env={**env(), **worker_env},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        with distributed.Client(addr, timeout="60s") as client:
            client.wait_for_workers(2, timeout=60)
            settings = client.run(_worker_settings)
        # the doc's exports do on hand-started workers what a LocalCluster does
        assert list(settings.values()) == [(False, False, None, True)] * 2, settings
        runs = []
        for line in ebutool_lines:
            runs.append(
                subprocess.run(
                    [sys.executable, "-m", *localise(line)],
                    cwd=tmp_path / "head",
                    env=env(),
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
            )
            assert runs[-1].returncode == 0, runs[-1].stderr
    finally:
        _stop(procs)
    for r in runs:
        assert "Traceback" not in r.stderr, r.stderr
    extract_err = runs[0].stderr
    assert f"cluster: 2 workers, dashboard http://127.0.0.1:{dash}/status" in extract_err
    assert "8/8 files done" in extract_err and "8 extracted, 0 unchanged" in extract_err
    day1, day2 = f"{tmp_path}/day1/", f"{tmp_path}/day2/"
    episodes = (tmp_path / "head" / "episodes.csv").read_text()
    assert episodes == cli("analyze", "--merge", day1, day2, "-f", "csv").stdout
    assert episodes.count("\n") == 12  # header and the 11 episodes of mixed.pcap
    summary = (tmp_path / "head" / "summary.csv").read_text()
    assert summary == cli("analyze", "--merge", day1, day2, "--summary", "-f", "csv").stdout
    whole = pd.read_csv(io.StringIO(cli("analyze", SAMPLES / "mixed.pcap", "-f", "csv").stdout))
    pd.testing.assert_frame_equal(
        pd.read_csv(io.StringIO(episodes)).drop(columns="source"), whole.drop(columns="source")
    )


# --- SLURM / PBS through dask-jobqueue -------------------------------------------------------


def _cluster_call(tree: ast.Module) -> ast.Call:
    calls = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "SLURMCluster"
    ]
    assert len(calls) == 1
    return calls[0]


def test_jobqueue_example_arguments():
    """The script compiles, imports names that exist, and its SLURMCluster arguments
    give a job script of 4 single-threaded workers with the account set, in SLURM's and
    in PBS's syntax ("PBSCluster: same arguments").  The doc's first version passed the
    account as job_extra_directives=["--account=mip6"]: right for sbatch, but PBS's job
    script then held `#PBS --account=mip6`, which qsub does not take (PBS: -A)."""
    jobqueue = pytest.importorskip("dask_jobqueue")
    import distributed

    import ebutool

    info, code = doc_block("jobqueue")
    assert info == "python"
    tree = ast.parse(code)
    compile(tree, "extract_campaign.py", "exec")
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = {"dask_jobqueue": jobqueue, "distributed": distributed}[node.module or ""]
            assert all(hasattr(module, a.name) for a in node.names)
    kwargs = {k.arg: ast.literal_eval(k.value) for k in _cluster_call(tree).keywords}
    local = {"host": "127.0.0.1", "dashboard_address": ":0"}  # (this test's scheduler only)
    for name, directive in (("PBSCluster", "#PBS"), ("SLURMCluster", "#SBATCH")):
        with getattr(jobqueue, name)(**kwargs, scheduler_options=local) as cluster:
            script = cluster.job_script()
        lines = [ln for ln in script.splitlines() if ln.startswith(directive)]
        assert all(re.match(directive + r" (-[A-Za-z]\b|--[a-z-]+=)", ln) for ln in lines), lines
        if name == "PBSCluster":
            assert all(" --" not in ln for ln in lines), lines  # qsub: one-letter options
        assert f"{directive} -A mip6" in lines, lines
        assert "--nworkers 4" in script and "--nthreads 1" in script
    # the library calls of the script take the arguments it gives them
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        func = call.func
        if isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "ebutool":
            names = [k.arg for k in call.keywords]
            inspect.signature(getattr(ebutool, func.attr)).bind("in", **dict.fromkeys(names))
    from ebutool.store import ExtractReport
    from ebutool.store.writer import PartResult

    assert isinstance(ExtractReport.failed, property)  # report.failed, each .path and .error
    assert {"path", "error"} <= set(PartResult.__dataclass_fields__)


# --- querying the store and the episode Parquet -----------------------------------------------


def _mh_messages(pcap: Path) -> list[tuple[float, str, str, str]]:
    """(time, label, care-of address, home address) of each Mobility Header message,
    read by scapy; a BU is an EBU when DESIGN.md 3 says so (H clear, lifetime > 0,
    care-of != home address, care-of nonce index 0)."""
    from scapy.layers.inet6 import (
        HAO,
        MIP6MH_BU,
        IPv6,
        MIP6OptAltCoA,
        MIP6OptNonceIndices,
        _MobilityHeader,
    )
    from scapy.utils import rdpcap

    names = {1: "HoTI", 2: "CoTI", 3: "HoT", 4: "CoT", 5: "BU", 6: "BA", 7: "BE"}
    out = []
    for pkt in rdpcap(str(pcap)):
        mh = next((x for x in pkt.iterpayloads() if isinstance(x, _MobilityHeader)), None)
        if mh is None:
            continue
        ip = [x for x in pkt.iterpayloads() if isinstance(x, IPv6)][-1]
        hoa = pkt[HAO].hoa if pkt.haslayer(HAO) else ""
        coa = pkt[MIP6OptAltCoA].acoa if pkt.haslayer(MIP6OptAltCoA) else ip.src
        label = names[mh.mhtype]
        if isinstance(mh, MIP6MH_BU):
            nonce = mh[MIP6OptNonceIndices] if mh.haslayer(MIP6OptNonceIndices) else None
            home = "H" in str(mh.flags)
            if not home and mh.mhtime > 0 and coa != hoa and nonce is not None and nonce.coni == 0:
                label = "EBU"
        out.append((float(pkt.time), label, coa, hoa))
    return out


def _tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[\s,]+", text) if t]


def _hashless(value: object) -> str:
    """A part's name without the hash of its input's absolute path (other on every machine)."""
    return re.sub(r"-[0-9a-f]{12}\.parquet$", "-HASH.parquet", str(value))


def _shown_matches(shown: list[str], got: list[str]) -> bool:
    """The outputs the doc shows are the first ones (all of them without "...")."""
    if shown and shown[-1] == ELLIPSIS:
        return got[: len(shown) - 1] == shown[:-1]
    return got == shown


def _in_order(shown: list[str], got: list[str]) -> bool:
    """Every token shown appears in the output, in order ("..." a gap)."""
    it = iter(got)
    return all(any(g == t for g in it) for t in shown if t != ELLIPSIS)


@pytest.fixture(scope="module")
def worked(tmp_path_factory) -> Path:
    """The doc's query-setup block run as shown, from a folder with the samples."""
    where = tmp_path_factory.mktemp("worked")
    (where / "samples").symlink_to(SAMPLES)
    info, block = doc_block("query-setup")
    assert info == "sh"
    script = (
        f'set -e\npython() {{ {shlex.quote(sys.executable)} "$@"; }}\n'
        f'ebutool() {{ {shlex.quote(sys.executable)} -m ebutool "$@"; }}\n{block}\n'
    )
    r = subprocess.run(
        ["bash", "-c", script], cwd=where, env=env(), capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    assert len(list((where / "store" / "parts").glob("*.parquet"))) == 8
    return where


def test_duckdb_examples(worked, monkeypatch):
    """Each query of the doc runs on the worked example's store and episode Parquet; its
    rows are those the capture gives (scapy; the episode table of the whole capture,
    grouped by pandas), and the doc's shown outputs are its first rows."""
    duckdb = pytest.importorskip("duckdb")
    import ebutool

    monkeypatch.chdir(worked)
    info, block = doc_block("duckdb")
    assert info == "sql"
    statements = re.findall(r"((?:^(?!--).*\n?)+?;)\n((?:--   .*\n?)*)", block, re.M)
    assert len(statements) == 4
    results = []
    for sql, shown in statements:
        rows = duckdb.sql(sql).fetchall()
        got = [_hashless(v) for row in rows for v in row]
        want = _tokens(re.sub(r"^--", "", shown, flags=re.M))
        assert _shown_matches([_hashless(t) for t in want], got), (sql, want, got[: len(want)])
        results.append(rows)
    by_type, per_part, bindings, episodes = results

    messages = _mh_messages(SAMPLES / "mixed.pcap")
    counts = Counter(label for _, label, _, _ in messages)
    assert by_type == sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    pieces = sorted((worked / "captures").iterdir())
    assert [_hashless(p) for p, *_ in per_part] == [f"{p.name}-HASH.parquet" for p in pieces]
    records_expected = []
    for piece in pieces:
        times = _record_times(piece)
        records_expected.append((min(times), max(times), len(times)))
    assert [
        (pytest.approx(a, abs=1e-6), pytest.approx(b, abs=1e-6), n) for a, b, n in records_expected
    ] == [tuple(r[1:]) for r in per_part]

    first: dict[tuple[str, str], float] = {}
    for t, label, coa, hoa in messages:
        if label in ("BU", "EBU") and coa != hoa:
            first.setdefault((coa, hoa), t)
    assert [
        (c, h, pytest.approx(t)) for (c, h), t in sorted(first.items(), key=lambda kv: kv[1])
    ] == [tuple(r) for r in bindings]

    whole = ebutool.analyze(SAMPLES / "mixed.pcap")
    grouped = whole.groupby(["kind", "mode"])["send_latency_ms"].agg(["size", "median"])
    assert [(k, m, int(n), float(med)) for (k, m), (n, med) in grouped.iterrows()] == episodes


def _record_times(piece: Path) -> list[float]:
    """Times of the packets a part keeps as records: Mobility Header messages, and data
    packets with a Home Address option, a type 2 routing header or an IPv6-in-IPv6
    tunnel (scapy)."""
    from scapy.layers.inet6 import HAO, IPv6, IPv6ExtHdrRouting, _MobilityHeader
    from scapy.utils import rdpcap

    out = []
    for pkt in rdpcap(str(piece)):
        layers = list(pkt.iterpayloads())
        tunnel = sum(isinstance(x, IPv6) for x in layers) > 1
        rh2 = any(isinstance(x, IPv6ExtHdrRouting) and x.type == 2 for x in layers)
        mh = any(isinstance(x, _MobilityHeader) for x in layers)
        if tunnel or rh2 or mh or pkt.haslayer(HAO):
            out.append(float(pkt.time))
    return out


def test_pandas_example(worked, monkeypatch):
    """The doc's pandas block, run as shown: what it prints is what the doc shows, and
    its values are those of the capture (scapy, the pieces' own octets and headers)."""
    import ebutool

    monkeypatch.chdir(worked)
    info, block = doc_block("pandas")
    assert info == "python"
    printed: list[str] = []

    def capture(*args, **kwargs):
        buf = io.StringIO()
        builtins.print(*args, file=buf, **{k: v for k, v in kwargs.items() if k != "file"})
        printed.append(buf.getvalue())

    namespace: dict = {"print": capture}
    exec(compile(block, "scale-out.md (pandas)", "exec"), namespace)
    shown = re.findall(r"^print\(.*\n((?:#.*\n?)+)", block, re.M)
    assert len(shown) == len(printed) == 3
    for want, got in zip(shown, printed, strict=True):
        tokens = _tokens(re.sub(r"^#", "", want, flags=re.M))
        assert _in_order(tokens, _tokens(got)), (tokens, got)

    updates = Counter(
        hoa for _, label, _, hoa in _mh_messages(SAMPLES / "mixed.pcap") if label in ("BU", "EBU")
    )
    bu = namespace["records"]
    assert bu[bu["msg"].isin(["BU", "EBU"])].groupby("hoa").size().to_dict() == dict(updates)
    first = sorted((worked / "captures").iterdir())[0]
    meta = namespace["meta"]
    assert meta["path"] == "captures/" + first.name
    assert meta["frames"] == len(pcap_records(first.read_bytes())[1])
    assert meta["sha256"] == hashlib.sha256(first.read_bytes()).hexdigest()
    whole = ebutool.analyze(SAMPLES / "mixed.pcap")
    pd.testing.assert_frame_equal(
        namespace["episodes"].groupby("mn")[["rtt_bt_ms", "send_latency_ms"]].median(),
        whole.groupby("mn")[["rtt_bt_ms", "send_latency_ms"]].median(),
    )
