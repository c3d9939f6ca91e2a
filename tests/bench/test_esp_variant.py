"""benchmarks/esp_variant.py: the ESP variant of a benchmark capture decrypts with its SAs
to the clear capture's episode rows, and run.py's ESP line judges the 1.2 bound."""

import pandas as pd

import ebutool
from benchmarks import gen_capture, run
from benchmarks.esp_variant import make_esp_variant
from ebutool.esp import load_sa_files


def test_esp_variant_gives_the_clear_rows(tmp_path):
    paths = gen_capture.generate(150_000, 3, tmp_path, formats=("pcap",))
    esp, sa_file = make_esp_variant(paths["pcap"])
    clear = ebutool.analyze(paths["pcap"])
    diag = ebutool.Diagnostics()
    got = ebutool.analyze(esp, esp_sas=load_sa_files([sa_file]), diag=diag)
    assert len(clear) > 0 and not diag.counts.get("esp_icv_mismatch")
    assert got["esp_protected"].str.contains("HoTI").any()
    pd.testing.assert_frame_equal(
        got.drop(columns=["esp_protected", "source"]),
        clear.drop(columns=["esp_protected", "source"]),
    )
    without = ebutool.Diagnostics()
    ebutool.analyze(esp, diag=without)
    assert without.counts["esp_no_sa"] > 0


def test_esp_report_judges_the_ratio():
    r = lambda s: {"seconds": s, "warm": s, "peak_mb": 90.0, "base_mb": 60.0, "packets": 1000}  # noqa: E731
    clear = "pcap/analyze_clear"  # the clear runs alternated with the ESP ones
    assert run.esp_report({clear: r(1.0), "pcap/analyze_esp": r(1.1)})[-1].endswith(" met")
    assert run.esp_report({clear: r(1.0), "pcap/analyze_esp": r(1.3)})[-1].endswith("NOT MET")
    # the clear analyze of the main rounds (another load) is not the reference
    only_main = {"pcap/analyze": r(0.5), "pcap/analyze_esp": r(1.1)}
    assert run.esp_report(only_main) == []
    assert run.esp_report({clear: r(1.0)}) == []
