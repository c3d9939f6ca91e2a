"""tshark decrypts the same ESP captures with the same SAs (its esp_sa UAT file) and agrees
with ebutool on every protected message's SPI, sequence number and inner MH fields."""

from __future__ import annotations

import shutil
import subprocess

import pytest

import ebutool
from tests.esp.peer import ALGORITHMS, wireshark_line
from tests.esp.test_scapy_peer import ebutool_sa, protected_sample

TSHARK = shutil.which("tshark")
FIELDS = (
    "frame.number",
    "esp.spi",
    "esp.sequence",
    "mip6.mhtype",
    "mip6.bu.seqnr",
    "mip6.ba.seqnr",
    "mip6.hoti.cookie",
    "mip6.hot.cookie",
)


def tshark_view(capture, sas, home) -> list[tuple]:
    """(frame, SPI, ESP sequence, MH type, BU/BA sequence or HoTI/HoT cookie) per
    decrypted message, as tshark shows it."""
    conf = home / ".config" / "wireshark"
    conf.mkdir(parents=True)
    (conf / "esp_sa").write_text("\n".join(wireshark_line(sa) for sa in sas) + "\n")
    args = [TSHARK, "-r", str(capture), "-o", "esp.enable_encryption_decode:TRUE"]
    args += ["-Y", "esp and mipv6", "-T", "fields", "-E", "separator=,"]
    for f in FIELDS:
        args += ["-e", f]
    out = subprocess.run(
        args, capture_output=True, text=True, check=True, env={"HOME": str(home)}, timeout=120
    ).stdout
    rows = []
    for line in out.splitlines():
        frame, spi, seq, mhtype, bu, ba, hoti, hot = line.split(",")
        detail = bu or ba or (hoti or hot).removeprefix("0x")
        rows.append((int(frame), int(spi, 16), int(seq), int(mhtype), detail))
    return rows


@pytest.mark.skipif(TSHARK is None, reason="tshark not installed")
@pytest.mark.parametrize("algo", sorted(a for a, v in ALGORITHMS.items() if v.ws_auth))
def test_tshark_agrees_on_decrypted_messages(tmp_path, algo):
    clear, esp, sas, counts = protected_sample(tmp_path, algo)
    want = tshark_view(esp, sas.values(), tmp_path / "home")
    df = ebutool.decode(esp, esp_sas=[ebutool_sa(sa) for sa in sas.values()])
    df = df[df["esp_spi"].notna()]
    got = [
        (
            int(r.frame),
            int(r.esp_spi, 16),
            int(r.esp_seq),
            int(r.mh_type),
            str(r.sequence) if r.msg in ("BU", "BA") else r.init_cookie,
        )
        for r in df.itertuples()
    ]
    assert len(got) == sum(counts.values())
    assert got == want
