"""The fuzz harness: mutated captures and traces through ``ebutool decode``, ``analyze``,
``verify`` and ``replay`` (with keys), each run in a forked child of this process (the
modules are imported once; a fork costs milliseconds where a new interpreter costs a
second).  A run fails when it:

- exits with status 4 (an internal error) or is killed by a signal;
- prints a traceback;
- takes more than :data:`MAX_RSS_MB` of memory (the child's peak resident set) or more
  than :data:`RUN_TIMEOUT_S` seconds;
- prints a secret of the keys file (a Kcn or a nonce, in hexadecimal) on stdout, stderr
  or in an output file.

Seeds: the samples (pcap cut to their first packets, JSON Lines traces cut to their
first lines), a pcapng made by the simulator, and ../shared/captures.
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.fuzz.mutate import mutate

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
SHARED = ROOT.parent / "shared" / "captures"
REGRESSIONS = Path(__file__).resolve().parent / "regressions"
MAX_RSS_MB = 400
RUN_TIMEOUT_S = 120
SEED_PACKETS = 60  # packets kept of each sample capture
SEED_LINES = 60  # lines kept of each sample trace
COMMANDS = ("decode", "analyze", "verify", "replay")


@dataclass
class Seed:
    name: str
    data: bytes
    keys: Path  # the keys file the run gets (the sample's own, else mixed's)


@dataclass
class Outcome:
    status: int | None  # exit status, None when killed by a signal
    signal: int | None
    max_rss_mb: float
    seconds: float
    problems: list[str]


@dataclass
class Campaign:
    runs: int = 0
    statuses: Counter = field(default_factory=Counter)
    max_rss_mb: float = 0.0
    failures: list[dict] = field(default_factory=list)
    by_command: Counter = field(default_factory=Counter)

    def summary(self) -> dict:
        return {
            "runs": self.runs,
            "exit_statuses": {str(k): v for k, v in sorted(self.statuses.items(), key=str)},
            "by_command": dict(self.by_command),
            "max_rss_mb": round(self.max_rss_mb, 1),
            "failures": len(self.failures),
        }


def _is_mh(packet: bytes) -> bool:
    """A raw IPv6 packet (the samples' link type) whose header chain reaches an MH."""
    if len(packet) < 40:
        return False
    nh, o = packet[6], 40
    while nh in (0, 43, 60, 41) and o + 2 <= len(packet):
        if nh == 41:
            nh, o = packet[o + 6], o + 40
            continue
        nh, o = packet[o], o + 8 * (packet[o + 1] + 1)
    return nh == 135


def _cut_pcap(data: bytes, packets: int) -> bytes:
    """The header and ``packets`` packets from the first Mobility Header message on (the
    signalling and the data around it)."""
    order = "little" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else "big"
    records, o = [], 24
    while o + 16 <= len(data):
        end = o + 16 + int.from_bytes(data[o + 8 : o + 12], order)
        records.append(data[o:end])
        o = end
    first = next((i for i, r in enumerate(records) if _is_mh(r[16:])), 0)
    return data[:24] + b"".join(records[first : first + packets])


def _pcapng_seed(workdir: Path) -> bytes | None:
    """A small pcapng from the simulator (the samples are all pcap)."""
    try:
        from ebutool.synth import load_scenario, simulate, write_capture

        result = simulate(load_scenario(str(SAMPLES / "early-conservative.toml")))
        path = workdir / "seed.pcapng"
        with open(path, "wb") as fh:
            write_capture(result, fh, pcapng=True)
        return path.read_bytes()[:60_000]
    except Exception:  # noqa: BLE001 - a seed less is no reason to stop
        return None


def load_seeds(workdir: Path) -> list[Seed]:
    mixed = workdir / "mixed.keys.json"
    seeds: list[Seed] = []
    for keys in sorted(SAMPLES.glob("*.keys.json")):
        private = workdir / keys.name
        shutil.copyfile(keys, private)
        os.chmod(private, 0o600)
        stem = keys.name.removesuffix(".keys.json")
        pcap, trace = SAMPLES / f"{stem}.pcap", SAMPLES / f"{stem}.jsonl"
        if pcap.exists():
            seeds.append(Seed(pcap.name, _cut_pcap(pcap.read_bytes(), SEED_PACKETS), private))
        if trace.exists():
            lines = trace.read_bytes().splitlines(keepends=True)[:SEED_LINES]
            seeds.append(Seed(trace.name, b"".join(lines), private))
    ng = _pcapng_seed(workdir)
    if ng:
        seeds.append(Seed("synth.pcapng", ng, workdir / "early-conservative.keys.json"))
    if SHARED.is_dir():
        for p in sorted(SHARED.glob("*/*.pcap")):
            seeds.append(Seed(f"{p.parent.name}/{p.name}", p.read_bytes(), mixed))
    return seeds


def secrets_of(keys: Path) -> list[bytes]:
    """Every Kcn and nonce of a keys file, as the hexadecimal a leak would show."""
    out = []
    for entry in json.loads(keys.read_text()).values():
        values = [entry.get("kcn")] + [
            v["nonce"] if isinstance(v, dict) else v for v in (entry.get("nonces") or {}).values()
        ]
        out += [v.lower().encode() for v in values if isinstance(v, str)]
    return out


def command_args(command: str, input_name: str, keys: Path) -> list[str]:
    args = [command, input_name, "-f", "csv", "-o", "out.csv"]
    if command in ("analyze", "verify", "replay"):
        args += ["--keys", str(keys)]
    if command == "replay":
        args += ["--divergences", "div.csv", "--decisions", "dec.csv"]
    return args


def _child(case: Path, args: list[str]) -> None:
    """In the forked child: run ebutool's main with stdout/stderr to files; never returns."""
    code = 99
    try:
        os.chdir(case)
        signal.alarm(RUN_TIMEOUT_S)
        for fd, name in ((1, "stdout"), (2, "stderr")):
            f = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(f, fd)
            os.close(f)
        sys.argv = ["ebutool", *args]
        from ebutool.cli import main

        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001 - the harness' own failure: status 99
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)


def run_case(case: Path, data: bytes, seed: Seed, command: str) -> Outcome:
    """One run in a forked child (module doc), its problems listed."""
    if case.exists():
        shutil.rmtree(case)
    case.mkdir(parents=True)
    name = "input.jsonl" if data[:1] == b"{" else "input.pcap"
    (case / name).write_bytes(data)
    args = command_args(command, name, seed.keys)
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        _child(case, args)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.monotonic() - start
    rss_mb = usage.ru_maxrss / 1024
    problems: list[str] = []
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    if sig is not None:
        problems.append("timeout" if sig == signal.SIGALRM else f"killed by signal {sig}")
    if code in (4, 99):
        problems.append(f"exit status {code}")
    texts = {p.name: p.read_bytes() for p in case.iterdir() if p.name != name and p.is_file()}
    if b"Traceback" in texts.get("stderr", b""):
        problems.append("traceback")
    if rss_mb > MAX_RSS_MB:
        problems.append(f"{rss_mb:.0f} MB")
    for secret in secrets_of(seed.keys):
        for fname, text in texts.items():
            if secret in text.lower():
                problems.append(f"secret in {fname}")
    return Outcome(code, sig, rss_mb, seconds, problems)


def save_regression(data: bytes, seed: Seed, command: str, problems: list[str], n: int) -> Path:
    REGRESSIONS.mkdir(exist_ok=True)
    ext = "jsonl" if data[:1] == b"{" else "pcap"
    path = REGRESSIONS / f"crash-{n:05d}-{command}.{ext}"
    path.write_bytes(data)
    meta = {"seed": seed.name, "command": command, "problems": problems}
    path.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")
    return path


def _warm_up(workdir: Path, seeds: list[Seed]) -> None:
    """Every command once in this process, so that the modules they import lazily are
    imported before the forks (a run then costs its own work only)."""
    from typer.testing import CliRunner

    from ebutool.cli.app import app

    case = workdir / "warm"
    case.mkdir(exist_ok=True)
    for seed in seeds[:2]:
        name = "input.jsonl" if seed.data[:1] == b"{" else "input.pcap"
        (case / name).write_bytes(seed.data)
        for command in COMMANDS:
            args = command_args(command, str(case / name), seed.keys)
            args = [str(case / a) if a.endswith(".csv") else a for a in args]
            CliRunner().invoke(app, args)


def campaign(
    runs: int,
    seed: int = 0,
    seconds: float | None = None,
    workdir: Path | None = None,
    save: bool = False,
    progress: bool = False,
) -> Campaign:
    """Up to ``runs`` runs (or until ``seconds`` have passed)."""
    rng = random.Random(seed)
    workdir = Path(workdir or "/tmp") / f"ebutool-fuzz-{os.getpid()}"
    workdir.mkdir(parents=True, exist_ok=True)
    seeds = load_seeds(workdir)
    _warm_up(workdir, seeds)
    result = Campaign()
    deadline = time.monotonic() + seconds if seconds else None
    for n in range(runs):
        if deadline is not None and time.monotonic() > deadline:
            break
        s = rng.choice(seeds)
        data, _how = mutate(s.data, rng)
        command = rng.choice(COMMANDS)
        out = run_case(workdir / "case", data, s, command)
        result.runs += 1
        result.by_command[command] += 1
        result.statuses[out.status if out.status is not None else f"signal {out.signal}"] += 1
        result.max_rss_mb = max(result.max_rss_mb, out.max_rss_mb)
        if out.problems:
            entry = {"run": n, "seed": s.name, "command": command, "problems": out.problems}
            if save:
                entry["saved"] = str(save_regression(data, s, command, out.problems, n))
            result.failures.append(entry)
        if progress and result.runs % 500 == 0:
            print(json.dumps(result.summary()), file=sys.stderr, flush=True)
    shutil.rmtree(workdir, ignore_errors=True)
    return result


def limit_memory(mb: int = 2048) -> None:
    """Address space of this process and its children: a run gone wild fails, the
    machine stays up (the 400 MB check is on the resident set)."""
    resource.setrlimit(resource.RLIMIT_AS, (mb << 20, mb << 20))
