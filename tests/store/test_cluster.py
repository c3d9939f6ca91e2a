"""Extraction on a 2-worker Dask LocalCluster, faults, and --cluster without Dask."""

from __future__ import annotations

import builtins
import io
import os
import resource
import sys

import pandas as pd
import pytest

import ebutool
from ebutool.core.errors import UsageError
from ebutool.runner.cluster import extract_files, parse_cluster
from ebutool.store import analyze_store, extract, store_parts
from tests.support.cli import SAMPLES
from tests.support.faults import Interrupted, exit_first_time, stop_after
from tests.support.splitcap import split_pcap

distributed = pytest.importorskip("distributed")


@pytest.fixture
def pieces(tmp_path):
    return split_pcap(SAMPLES / "mixed.pcap", tmp_path / "rotated", 8)[0].parent


def _drop_source(df):
    return df.drop(columns="source")


def test_cluster_extract_gives_the_one_process_store(tmp_path, pieces, cli):
    """extract --cluster local:2 + analyze STORE = the whole capture's rows; and the
    store is the one a single process writes (same records, same facts)."""
    res = cli("extract", pieces, "-o", tmp_path / "s2", "--cluster", "local:2")
    assert res.exit_code == 0, res.stderr
    assert "dashboard http" in res.stderr and "8/8 files done" in res.stderr
    extract([pieces], tmp_path / "s1")
    a, b = analyze_store(tmp_path / "s2"), analyze_store(tmp_path / "s1")
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(
        _drop_source(a), _drop_source(ebutool.analyze(SAMPLES / "mixed.pcap"))
    )


def test_cluster_store_labels_its_inputs_as_named(tmp_path, monkeypatch, cli):
    """Two days' ring buffers, the same file names in two folders: `source` and the
    warnings name a file by its path as given (`day1/cap0.pcap`).  The store extracted
    on the cluster recorded the absolute paths its tasks were handed, so its labels
    were `/tmp/.../day1/cap0.pcap`, not those of `analyze --merge day1 day2` (nor of
    the store one process extracts)."""
    monkeypatch.chdir(tmp_path)
    split_pcap(SAMPLES / "mixed.pcap", tmp_path / "day1", 2, stem="cap")
    split_pcap(SAMPLES / "standard.pcap", tmp_path / "day2", 2, stem="cap")
    res = cli("extract", "day1", "day2", "-o", "store", "--cluster", "local:2", "-q")
    assert res.exit_code == 0, res.stderr
    got = cli("analyze", "store", "-f", "csv")
    want = cli("analyze", "--merge", "day1", "day2", "-f", "csv")
    assert "day1/cap-00.pcap," in want.stdout
    assert got.stdout == want.stdout
    assert str(tmp_path) not in got.stderr
    again = cli("extract", "day1", "day2", "-o", "store", "--cluster", "local:2")
    assert "0 extracted, 4 unchanged" in again.stderr


def test_worker_killed_during_extraction_is_retried(tmp_path, pieces):
    marks = tmp_path / "marks"
    marks.mkdir()
    task = exit_first_time(str(marks), "piece-03.pcap")
    report = extract_files([pieces], tmp_path / "s", cluster="local:2", task=task)
    assert (marks / "piece-03.pcap.attempted").exists()  # the first attempt did die
    # A task the dead worker had finished but not yet reported is run again: it then
    # finds its part written ("unchanged").
    assert report.count("extracted") + report.count("unchanged") == 8 and not report.failed
    assert len(store_parts(str(tmp_path / "s"))) == 8
    pd.testing.assert_frame_equal(
        _drop_source(analyze_store(tmp_path / "s")),
        _drop_source(ebutool.analyze(SAMPLES / "mixed.pcap")),
    )


def test_corrupt_file_among_good_ones(tmp_path, pieces, cli):
    bad = pieces / "piece-04.pcap"
    extract([pieces], tmp_path / "s")  # a store holding the good piece-04 already
    bad.write_bytes(bad.read_bytes()[:12])  # pcap magic, then a cut global header
    res = cli("extract", pieces, "-o", tmp_path / "s")
    assert res.exit_code == 3
    assert "piece-04.pcap" in res.stderr and "1 of 8 files unreadable" in res.stderr
    assert "7 unchanged, 1 failed" in res.stderr
    got = ebutool.analyze(tmp_path / "s")
    others = [p for p in sorted(pieces.iterdir()) if p != bad]
    pd.testing.assert_frame_equal(got, ebutool.analyze(*others, merge=True))


def test_interrupted_run_resumes_from_the_store(tmp_path, pieces):
    marks = tmp_path / "marks"
    marks.mkdir()
    with pytest.raises(Interrupted):
        extract([pieces], tmp_path / "s", task=stop_after(str(marks), 3))
    again = extract([pieces], tmp_path / "s")
    assert [r.status for r in again.results] == ["unchanged"] * 3 + ["extracted"] * 5
    pd.testing.assert_frame_equal(
        _drop_source(analyze_store(tmp_path / "s")),
        _drop_source(ebutool.analyze(SAMPLES / "mixed.pcap")),
    )


BIG = 1 << 20  # a buffer above glibc's initial mmap threshold (128 KiB)


def _page_faults_of_big_buffers(n: int = 100) -> int:
    """(Run on a worker) minor page faults of ``n`` BIG buffers made, written and freed
    in turn: a few hundred when glibc moves its mmap threshold up after the first free
    (its default), ``n`` * 256 when the threshold is fixed and each one is mmap'd anew."""
    before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    for _ in range(n):
        buf = b"x" * BIG
        del buf
    return resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before


def _callback_ms(dask_worker) -> dict[str, float]:
    return {k: pc.callback_time for k, pc in dask_worker.periodic_callbacks.items()}


def test_local_workers_run_lean(monkeypatch):
    """The LocalCluster ebutool starts: no statistical profiler, no GIL monitor, the
    event loops' tick, system and memory monitors at 500 ms, 2 s and 1 s (Dask: 20 ms,
    500 ms, 100 ms), and glibc's malloc as in a plain process (no MALLOC_TRIM_THRESHOLD_
    from the nanny, which would also leave this process's environment changed)."""
    import dask

    from ebutool.runner.cluster import dask_client

    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    pages = 100 * BIG // resource.getpagesize()
    with dask_client("local:2") as client:
        conf = client.run(
            lambda: (
                dask.config.get("distributed.worker.profile.enabled"),
                dask.config.get("distributed.admin.system-monitor.gil.enabled"),
            )
        )
        assert set(conf.values()) == {(False, False)}
        for ms in [*client.run(_callback_ms).values(), client.run_on_scheduler(_callback_ms)]:
            assert ms["tick"] >= 500 and ms["monitor"] >= 2000, ms
            assert ms.get("memory_monitor", 1000) >= 1000, ms
        env = client.run(os.environ.get, "MALLOC_TRIM_THRESHOLD_")
        faults = client.gather(
            [client.submit(_page_faults_of_big_buffers, pure=False, workers=[w]) for w in env]
        )
        assert all(f < pages / 4 for f in faults), (faults, pages)
        assert set(env.values()) == {None}
    assert "MALLOC_TRIM_THRESHOLD_" not in os.environ


def test_cluster_without_dask_is_one_line_usage_error(tmp_path, monkeypatch, cli):
    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name == "distributed" or name.startswith("distributed."):
            raise ImportError("No module named 'distributed'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "distributed", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_dask)
    res = cli("extract", SAMPLES / "standard.pcap", "-o", tmp_path / "s", "--cluster", "local:2")
    assert res.exit_code == 2
    assert res.stderr.count("\n") == 1 and "ebutool[dask]" in res.stderr
    # --jobs keeps working without it
    res = cli("extract", SAMPLES / "standard.pcap", "-o", tmp_path / "s", "-j", "2")
    assert res.exit_code == 0, res.stderr


@pytest.mark.parametrize(
    "spec, parsed",
    [
        ("local", ("local", None)),
        ("local:3", ("local", 3)),
        ("tcp://h:8786", ("address", "tcp://h:8786")),
    ],
)
def test_parse_cluster(spec, parsed):
    assert parse_cluster(spec) == parsed


@pytest.mark.parametrize("spec", ["local:0", "local:x", "h:8786", ""])
def test_parse_cluster_refuses(spec):
    with pytest.raises(UsageError):
        parse_cluster(spec)


class _Client:
    """Stands for a distributed.Client: the first worker sees everything, the second runs
    the check where the store's folder is not mounted."""

    def __init__(self, unmounted: str):
        self.unmounted = unmounted

    def run(self, func, paths, store):
        return {"tcp://w1:1": func(paths, store), "tcp://w2:1": func(paths, self.unmounted)}


def test_a_worker_that_cannot_see_the_store_is_named(tmp_path):
    from ebutool.runner.cluster import check_visible

    inputs = [str(SAMPLES / "standard.pcap")]
    check_visible(_Client(str(tmp_path)), inputs, str(tmp_path))  # both see it: fine
    with pytest.raises(UsageError, match=r"worker tcp://w2:1 cannot see /nowhere.*shared file"):
        check_visible(_Client("/nowhere"), inputs, str(tmp_path))


def _no_fallback(log: list[str]) -> bool:
    return not any("in one process" in line for line in log)


def test_analysis_split_on_a_two_worker_cluster(tmp_path, pieces, cli):
    """analyze STORE --cluster local:2 (the analysis split by mobile node, one task per
    group): the 8-piece split gives the whole capture's rows, and a multi-vantage synth
    run (mn, ha, cn views) gives exactly the table of analyze --merge of its captures
    (views of one run: merged in one process, not split; tests/store/test_store_vantages.py);
    per-file analysis without the store differs (the guard)."""
    from ebutool.runner.cluster import dask_client, dask_group_mapper
    from ebutool.store.grouped import analyze_store_grouped
    from tests.support.cli import run_cli

    extract([pieces], tmp_path / "s8")
    res = cli("analyze", tmp_path / "s8", "--cluster", "local:2", "-f", "csv")
    assert res.exit_code == 0, res.stderr
    assert "cluster: 2 workers" in res.stderr and "in one process" not in res.stderr
    assert "analysis: 3 groups of mobile nodes in 3 tasks" in res.stderr
    whole = ebutool.analyze(SAMPLES / "mixed.pcap")
    got = pd.read_csv(io.StringIO(res.stdout))
    expected = pd.read_csv(io.StringIO(cli("analyze", pieces, "--merge", "-f", "csv").stdout))
    pd.testing.assert_frame_equal(got, expected)
    assert (
        got["mn"].tolist() == whole["mn"].tolist()
        and got["kind"].tolist() == whole["kind"].tolist()
    )

    views = [tmp_path / f"{v}.pcap" for v in ("mn", "ha", "cn")]
    made = run_cli(
        "synth",
        SAMPLES / "mixed.toml",
        "-o",
        views[0],
        "--view",
        f"ha={views[1]}",
        "--view",
        f"cn={views[2]}",
        "--seed",
        "3",
        "-q",
    )
    assert made.exit_code == 0, made.stderr
    extract(views, tmp_path / "mv")
    merged = analyze_store(tmp_path / "mv")
    pd.testing.assert_frame_equal(merged, ebutool.analyze(*views, merge=True))
    log: list[str] = []
    with dask_client("local:2") as client:
        df = analyze_store_grouped(
            tmp_path / "s8", mapper=dask_group_mapper(client), groups=4, log=log.append
        )
        pd.testing.assert_frame_equal(df, analyze_store(tmp_path / "s8"))
        assert log and _no_fallback(log)
        df = analyze_store_grouped(
            tmp_path / "mv", mapper=dask_group_mapper(client), groups=4, log=log.append
        )
        pd.testing.assert_frame_equal(df, merged)
        assert "holds views of one run" in log[-1]
    per_file = ebutool.analyze(*views)
    cols = [c for c in merged.columns if c not in ("source", "episode")]
    assert len(per_file) != len(merged) or not per_file[cols].equals(merged[cols])


_NOISY_TEARDOWN = """
import logging
import sys

from distributed.diagnostics.plugin import WorkerPlugin

from ebutool.runner.cluster import dask_client


class Noisy(WorkerPlugin):
    def teardown(self, worker):  # as a heartbeat that meets the scheduler gone
        logging.getLogger("distributed.worker").error("teardown noise")


with dask_client("local:2") as client:
    client.register_plugin(Noisy())
    print(sum(client.gather(client.map(abs, [-1, -2]))))
logging.getLogger("distributed.scheduler").error("after the close")  # logging is back
"""


def test_local_cluster_teardown_is_quiet():
    """The workers of the LocalCluster a run started log nothing while it is closed:
    benchmarks/scale_out.py once showed a worker's "Failed to communicate with scheduler
    during heartbeat" and its traceback on stderr after the results were in.  Here a
    worker logs an error as it is torn down (a plugin's teardown, every time): it must
    not reach stderr, and this process's own logging works again after the close."""
    import subprocess

    from tests.support.proc import env

    p = subprocess.run(
        [sys.executable, "-c", _NOISY_TEARDOWN],
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "3"
    assert "teardown noise" not in p.stderr, p.stderr
    assert "after the close" in p.stderr


@pytest.mark.parametrize(
    "address",
    [
        "tcp://127.0.0.1:notaport",
        "tcp://127.0.0.1:99999",
        "tcp://[::1",
        "tcp://head:8786/",
        "tcp://head",
        "foo://head:8786",
        "inproc://x",
    ],
)
def test_a_scheduler_address_dask_cannot_use_is_a_usage_error(tmp_path, cli, address):
    """A mistyped --cluster address was an internal error (exit 4: "ValueError: invalid
    literal for int() with base 10: 'notaport'", "unknown address scheme 'foo'"), or,
    for port 99999, a 10-second wait for a scheduler no address can have: a one-line
    usage error (exit 2) now, before a worker or the store is touched."""
    extract([SAMPLES / "standard.pcap"], tmp_path / "s")
    res = cli("analyze", tmp_path / "s", "--cluster", address)
    assert res.exit_code == 2, res.stderr
    assert res.stderr.count("\n") == 1 and "--cluster" in res.stderr, res.stderr
    assert "internal error" not in res.stderr and "Traceback" not in res.stderr
    res = cli("extract", SAMPLES / "standard.pcap", "-o", tmp_path / "new", "--cluster", address)
    assert res.exit_code == 2 and res.stderr.count("\n") == 1, res.stderr
    assert not (tmp_path / "new").exists()


def test_a_scheduler_that_is_not_there(tmp_path, cli, monkeypatch):
    """No scheduler at the address (a closed port), or tls:// without Dask's TLS
    configuration (was an internal error: "TypeError: TLS expects a `ssl_context`
    argument..."): one line, exit 2, no store made."""
    import socket

    import ebutool.runner.cluster as cluster

    monkeypatch.setattr(cluster, "SCHEDULER_TIMEOUT", "1s")  # (10 s in a real run)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens on it once closed
    for scheme in ("tcp", "tls"):
        address = f"{scheme}://127.0.0.1:{port}"
        res = cli("extract", SAMPLES / "standard.pcap", "-o", tmp_path / "s", "--cluster", address)
        assert res.exit_code == 2, res.stderr
        assert res.stderr.count("\n") == 1 and f"--cluster {address}: cannot" in res.stderr
        assert "internal error" not in res.stderr and not (tmp_path / "s").exists()


def test_a_scheduler_without_workers_is_waited_for_out_loud(tmp_path):
    """A scheduler that no worker has joined yet (workers still queued as batch jobs, or
    never started): extract said "cluster: 0 workers" and then hung without another
    word, its tasks queued, and the check that the workers see the inputs and the store
    passed, with no worker to ask.  Now it says it waits for a worker at that address,
    and goes on, checks included, once one has joined."""
    import threading

    from distributed import LocalCluster

    said: list[str] = []
    joined = threading.Event()

    def say(line: str) -> None:
        said.append(line)
        if "waiting" in line:
            joined.set()

    with LocalCluster(
        n_workers=0, processes=False, protocol="tcp://", dashboard_address=":0"
    ) as cluster:
        address = cluster.scheduler_address

        def start_a_worker() -> None:
            joined.wait(20)  # (before the fix nothing said it waited: a worker joins anyway)
            cluster.scale(1)

        starter = threading.Thread(target=start_a_worker)
        starter.start()
        extract_files([SAMPLES / "standard.pcap"], tmp_path / "s", cluster=address, say=say)
        starter.join()
    assert said[0].startswith(f"cluster: no workers at {address} yet: waiting"), said
    assert said[1].startswith("cluster: 1 worker,"), said
    assert len(store_parts(str(tmp_path / "s"))) == 1


def _slow_extract(path: str, store: str, named: str | None = None):
    """(A task) extract_file, slowly: the scheduler can be lost while it runs."""
    import time

    from ebutool.store.writer import extract_file

    time.sleep(0.3)
    return extract_file(path, store, named=named)


def test_scheduler_lost_during_the_run(tmp_path, pieces, monkeypatch, capfd):
    """The scheduler at the address goes away in the middle of an extraction: that was
    "internal error: FutureCancelledError: _as_named-... cancelled for reason:
    scheduler-connection-lost.", two lines (exit 4), after Dask's own "Failed to
    reconnect to scheduler" log line.  Now one line, exit 2, saying that the parts done
    are kept; the run started again on a scheduler extracts only the rest."""
    import threading
    import time

    from distributed import LocalCluster

    import ebutool.runner.cluster as cluster_module

    monkeypatch.setattr(cluster_module, "SCHEDULER_TIMEOUT", "1s")  # (its reconnect time)
    with LocalCluster(
        n_workers=1, processes=False, protocol="tcp://", dashboard_address=":0"
    ) as cluster:

        def lose_the_scheduler() -> None:
            for _ in range(600):
                if len(list((tmp_path / "s" / "parts").glob("*.parquet"))) >= 2:
                    break
                time.sleep(0.05)
            cluster.close()

        killer = threading.Thread(target=lose_the_scheduler)
        killer.start()
        with pytest.raises(UsageError) as lost:
            extract_files([pieces], tmp_path / "s", cluster=cluster.scheduler_address,
                          task=_slow_extract)  # fmt: skip
        killer.join()
    message = str(lost.value)
    assert "\n" not in message and "lost the connection to the scheduler" in message, message
    assert "scheduler-connection-lost" in message and "_as_named" not in message
    err = capfd.readouterr().err
    assert "Failed to reconnect" not in err and "Traceback" not in err, err
    done = len(store_parts(str(tmp_path / "s")))
    assert 2 <= done < 8
    again = extract([pieces], tmp_path / "s")
    assert again.count("unchanged") == done and again.count("extracted") == 8 - done


def test_workers_are_counted_past_five(tmp_path, monkeypatch):
    """distributed 2025.x's Client.scheduler_info() lists at most 5 workers unless told
    otherwise (n_workers=5; 2026 releases list all): with 6 workers, the run said
    "cluster: 5 workers" and analyze STORE --cluster cut the store into the tasks of 5
    workers.  Here scheduler_info behaves as that release's does; the count is right."""
    from distributed import Client, LocalCluster

    from ebutool.runner.cluster import dask_client

    real = Client.scheduler_info

    def five_at_most(self, n_workers: int = 5, **kwargs):  # (distributed 2025.5.0)
        info = real(self, n_workers=-1, **kwargs)
        if n_workers >= 0:
            info["workers"] = dict(list(info["workers"].items())[:n_workers])
        return info

    monkeypatch.setattr(Client, "scheduler_info", five_at_most)
    said: list[str] = []
    local = {"processes": False, "protocol": "tcp://", "dashboard_address": ":0"}
    with LocalCluster(n_workers=6, threads_per_worker=1, **local) as cluster:
        with dask_client(cluster.scheduler_address, said.append) as client:
            assert len(client.nthreads()) == 6
        assert said[0].startswith("cluster: 6 workers"), said


def test_workers_running_another_ebutool_are_refused(tmp_path, monkeypatch):
    """Workers started by hand (dask worker on each host) run the ebutool installed
    there: another version, or the same version from other sources, extracts and
    analyses by its own code, and the table put together here could silently differ
    from this version's.  Each worker now reports its ebutool (version and a digest of
    its source files, computed here independently with hashlib) and one that differs
    is named in a one-line usage error, before any task."""
    import hashlib
    from pathlib import Path

    import ebutool.runner.cluster as cluster_module

    root = Path(ebutool.__file__).parent
    digest = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        digest.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() + b"\0")
    assert cluster_module.ebutool_build() == f"{ebutool.__version__} {digest.hexdigest()[:12]}"
    # this process now has other sources than its workers (which import their own)
    monkeypatch.setattr(cluster_module, "ebutool_build", lambda: "0.1.0 000000000000")
    with pytest.raises(UsageError, match=r"worker tcp://\S+ runs ebutool 0\.1\.0 \w{12}, "):
        extract_files([SAMPLES / "standard.pcap"], tmp_path / "s", cluster="local:1")
    assert not (tmp_path / "s").exists()
    # an ebutool from before the check: its warm-up returned the worker's CPU seconds
    with pytest.raises(UsageError, match=r"worker w1 runs ebutool of an earlier version"):
        cluster_module.check_same_ebutool({"w1": 0.92})
