"""Synthesized captures checked by others: Wireshark's dissector (tshark) must decode
every Mobility Header message with the fields the generator meant, the MH checksums
must match an independent RFC 1071 computation, tshark must find every UDP checksum
good, and ``ebutool verify`` with the scenario's Kcn and nonces must call every
token and MAC valid."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from ebutool.core.addr import pton
from ebutool.synth import key_table, load_scenario, simulate, write_capture
from ebutool.wire.build import write_pcap
from ebutool.wire.mh.messages import (
    BU_FLAG_A,
    BU_FLAG_H,
    BindingAcknowledgement,
    BindingError,
    BindingUpdate,
    CareOfTest,
    CareOfTestInit,
    HomeTest,
    HomeTestInit,
)
from ebutool.wire.mh.mobility_options import BindingAuthorizationData, NonceIndices

SAMPLES = sorted(Path(__file__).resolve().parents[2].glob("samples/*.toml"))
TSHARK = shutil.which("tshark")
FIELDS = [
    "frame.number",
    "mip6.mhtype",
    "mip6.csum",
    "mip6.bu.seqnr",
    "mip6.bu.a_flag",
    "mip6.bu.h_flag",
    "mip6.bu.lifetime",
    "mip6.ba.status",
    "mip6.ba.seqnr",
    "mip6.ba.lifetime",
    "mip6.ni.hni",
    "mip6.ni.cni",
    "mip6.bad.auth",
    "mip6.hoti.cookie",
    "mip6.coti.cookie",
    "mip6.hot.cookie",
    "mip6.hot.token",
    "mip6.hot.nindex",
    "mip6.cot.cookie",
    "mip6.cot.nindex",
    "mip6.be.status",
    "mip6.be.haddr",
    "ipv6.src",
    "ipv6.dst",
    "ipv6.opt.mipv6.home_address",
    "ipv6.routing.mipv6.home_address",
]


@pytest.fixture(scope="module")
def all_samples(tmp_path_factory):
    """Every sample synthesized afresh, each written to its own pcap and all of them
    to one combined pcap so that tshark (about a second to start) runs once."""
    d = tmp_path_factory.mktemp("synth")
    out, combined = {}, []
    for toml in SAMPLES:
        result = simulate(load_scenario(str(toml)))
        path = d / f"{toml.stem}.pcap"
        with open(path, "wb") as fh:
            write_capture(result, fh)
        out[toml.stem] = (result, path, len(combined))
        combined.extend(result.packets)
    with open(d / "all.pcap", "wb") as fh:
        write_pcap(fh, combined)
    return out, d / "all.pcap"


@pytest.fixture(scope="module")
def tshark_rows(all_samples):
    """tshark's fields for every frame of the combined capture, by frame number."""
    _, path = all_samples
    fields = FIELDS + ["udp.checksum.status"]
    proc = subprocess.run(
        [
            TSHARK,
            "-n",
            "-r",
            str(path),
            "-o",
            "udp.check_checksum:TRUE",
            "-T",
            "fields",
            "-E",
            "separator=|",
            *sum((["-e", f] for f in fields), []),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return [dict(zip(fields, line.split("|"), strict=False)) for line in proc.stdout.splitlines()]


@pytest.fixture(params=[p.stem for p in SAMPLES])
def synthesized(request, all_samples):
    result, path, _ = all_samples[0][request.param]
    return result, path


@pytest.fixture(params=[p.stem for p in SAMPLES])
def sample_rows(request, all_samples, tshark_rows):
    result, _, first = all_samples[0][request.param]
    return result, tshark_rows[first : first + len(result.packets)]


def rfc1071_checksum(src: str, dst: str, mh: bytes) -> int:
    """Independent Internet checksum of a Mobility Header (RFC 6275 6.1.1 pseudo-header)."""
    data = pton(src) + pton(dst) + struct.pack("!I3xB", len(mh), 135) + mh[:4] + b"\0\0" + mh[6:]
    data += b"\0" * (len(data) % 2)
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _int(text: str) -> int:
    return int(text, 16) if text.startswith("0x") else int(text)


def _flag(text: str) -> bool:
    return text in ("1", "True", "true")


def expected_fields(pkt) -> dict[str, object]:
    """What tshark should show for the MH message the generator built into ``pkt``."""
    inner = pkt.inner or pkt
    m = inner.msg
    want: dict[str, object] = {"mip6.mhtype": m.mh_type}
    if isinstance(m, CareOfTestInit):
        want["mip6.coti.cookie"] = int.from_bytes(m.init_cookie, "big")
    elif isinstance(m, HomeTestInit):
        want["mip6.hoti.cookie"] = int.from_bytes(m.init_cookie, "big")
    elif isinstance(m, CareOfTest):
        want.update(
            {
                "mip6.cot.cookie": int.from_bytes(m.init_cookie, "big"),
                "mip6.cot.nindex": m.nonce_index,
                "mip6.hot.token": int.from_bytes(m.keygen_token, "big"),
            }
        )  # Wireshark's name
    elif isinstance(m, HomeTest):
        want.update(
            {
                "mip6.hot.cookie": int.from_bytes(m.init_cookie, "big"),
                "mip6.hot.nindex": m.nonce_index,
                "mip6.hot.token": int.from_bytes(m.keygen_token, "big"),
            }
        )
    elif isinstance(m, BindingUpdate):
        want.update(
            {
                "mip6.bu.seqnr": m.sequence,
                "mip6.bu.a_flag": bool(m.flags & BU_FLAG_A),
                "mip6.bu.h_flag": bool(m.flags & BU_FLAG_H),
                "mip6.bu.lifetime": m.lifetime,
            }
        )
    elif isinstance(m, BindingAcknowledgement):
        want.update(
            {
                "mip6.ba.status": m.status,
                "mip6.ba.seqnr": m.sequence,
                "mip6.ba.lifetime": m.lifetime,
            }
        )
    elif isinstance(m, BindingError):
        want.update({"mip6.be.status": m.status, "mip6.be.haddr": m.home_address})
    ni, auth = m.option(NonceIndices), m.option(BindingAuthorizationData)
    if ni is not None:
        want.update({"mip6.ni.hni": ni.home_index, "mip6.ni.cni": ni.careof_index})
    if auth is not None:
        want["mip6.bad.auth"] = auth.authenticator.hex()
    want["ipv6.src"] = ",".join(a for a in (pkt.src if pkt.inner else None, inner.src) if a)
    want["ipv6.dst"] = ",".join(a for a in (pkt.dst if pkt.inner else None, inner.dst) if a)
    if inner.hoa:
        want["ipv6.opt.mipv6.home_address"] = inner.hoa
    if inner.home:
        want["ipv6.routing.mipv6.home_address"] = inner.home
    return want


def _normal(name: str, text: str):
    if name.endswith("_flag"):
        return _flag(text)
    if name.startswith("mip6.") and name not in ("mip6.bad.auth", "mip6.be.haddr"):
        return _int(text)
    return text.replace(":", "") if name == "mip6.bad.auth" else text


@pytest.mark.skipif(TSHARK is None, reason="tshark is not installed")
def test_tshark_decodes_every_mh_message_as_built(sample_rows):
    result, rows = sample_rows
    assert len(rows) == len(result.built)
    mh_rows = 0
    for pkt, row in zip(result.built, rows, strict=False):
        inner = pkt.inner or pkt
        if inner.msg is None:
            assert row["mip6.mhtype"] == ""
            continue
        mh_rows += 1
        for name, want in expected_fields(pkt).items():
            assert _normal(name, row[name]) == want, (row["frame.number"], name, row[name], want)
        assert _int(row["mip6.csum"]) == rfc1071_checksum(
            inner.hoa or inner.src, inner.home or inner.dst, inner.mh_wire
        )
    assert mh_rows > 10


@pytest.mark.skipif(TSHARK is None, reason="tshark is not installed")
def test_tshark_finds_every_udp_checksum_good(sample_rows):
    result, rows = sample_rows
    status = [r["udp.checksum.status"] for r in rows if r["mip6.mhtype"] == ""]
    assert len(status) == sum((p.inner or p).msg is None for p in result.built) > 100
    assert set(status) == {"1"}  # 1 = good


def test_verify_with_the_scenario_keys_finds_every_message_valid(synthesized, tmp_path):
    import json

    import ebutool
    from ebutool.oracle.keys import load_keys_file

    result, path = synthesized
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(key_table(result)))
    df = ebutool.verify(str(path), keys=load_keys_file(str(keys)))
    built = [(p.inner or p).msg for p in result.built]
    # every keygen token (HoT, CoT) and every authenticator (BU/EBU/BA/EBA with a CN)
    checked = sum(
        isinstance(m, HomeTest) or m.option(BindingAuthorizationData) is not None
        for m in built
        if m is not None
    )
    assert len(df) == checked > 0
    assert set(df["verdict"]) == {"valid"}, df[df["verdict"] != "valid"].to_string()
    assert set(df["basis"]) == {"kcn"}
