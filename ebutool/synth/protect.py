"""ESP-protected MN-HA signalling for a synthesized run (RFC 3776, RFC 4877).

:func:`protect_run` encrypts, in the packets of a :class:`SynthResult`, what the RFCs
protect between each mobile node and its home agent: the BU to the HA and the HA's BA
in transport mode (SA selectors: home address and HA), the HoTI and HoT on the MN-HA
tunnel in tunnel mode (selectors: the HA and any care-of address, ``*``, since the
tunnel's end moves with the care-of address).  Four SAs per MN, keys derived from the
run's seed, so the same seed gives the same bytes.  :func:`write_sa_files` writes the SAs
as Wireshark's esp_sa table, ``ip xfrm state`` output and the JSON ``esp_sas`` section
(mode 0600: they hold keys).  The JSON trace stays the run in clear (its ground truth).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from ebutool.core import constants as C
from ebutool.core.errors import UsageError
from ebutool.core.output_file import OutputFile
from ebutool.esp.algorithms import CIPHERS
from ebutool.esp.encrypt import protect_packet
from ebutool.esp.sa import WILDCARD, EspSA, SecretKey
from ebutool.synth.simulator import SynthResult
from ebutool.wire.ipv6 import decode_ipv6_fields
from ebutool.wire.mh.codec import decode_mh
from ebutool.wire.mh.messages import BU_FLAG_H, BindingUpdate

DEFAULT_ALGORITHM = "aes-cbc/hmac-sha1-96"
# --esp choices: "ENCRYPTION/INTEGRITY" (or a combined mode alone) -> key octets of each.
ALGORITHMS: dict[str, tuple[str, str, int, int]] = {
    "null/hmac-sha1-96": ("null", "hmac-sha1-96", 0, 20),
    "aes-cbc/hmac-sha1-96": ("aes-cbc", "hmac-sha1-96", 16, 20),
    "aes-cbc/hmac-sha256-128": ("aes-cbc", "hmac-sha256-128", 16, 32),
    "aes-ctr/hmac-sha1-96": ("aes-ctr", "hmac-sha1-96", 20, 20),
    "aes-cbc/aes-cmac-96": ("aes-cbc", "aes-cmac-96", 16, 16),
    "aes-gcm-8": ("aes-gcm-8", "null", 20, 0),
    "aes-gcm-12": ("aes-gcm-12", "null", 20, 0),
    "aes-gcm-16": ("aes-gcm-16", "null", 20, 0),
}
FIRST_SPI = 0x1000  # SPIs 0x1000, 0x1001, ... in order of mobile node, then role
ROLES = ("bu", "ba", "hoti", "hot")  # the SAs of one MN (MN->HA, HA->MN; transport, tunnel)


@dataclass
class ProtectedRun:
    packets: list[tuple[int, bytes]]
    sas: list[EspSA]
    protected: Counter = field(default_factory=Counter)  # by role


def _key(seed: int, spi: int, what: str, n: int) -> SecretKey:
    material = hashlib.sha256(f"ebutool-synth-esp:{seed}:{spi}:{what}".encode()).digest()
    return SecretKey((material * 2)[:n])


def run_sas(result: SynthResult, algorithm: str = DEFAULT_ALGORITHM) -> dict[tuple, EspSA]:
    """(home address, role) -> SA, for every mobile node of the run."""
    if algorithm not in ALGORITHMS:
        raise UsageError(f"--esp {algorithm!r}: one of {', '.join(ALGORITHMS)}")
    enc, integ, enc_len, auth_len = ALGORITHMS[algorithm]
    sc, out, spi = result.scenario, {}, FIRST_SPI
    for mn in sc.mobile_nodes.values():
        ha = sc.home_agents[mn.home_agent].address
        ends = {
            "bu": (mn.home_address, ha),
            "ba": (ha, mn.home_address),
            "hoti": (WILDCARD, ha),
            "hot": (ha, WILDCARD),
        }
        for role in ROLES:
            src, dst = ends[role]
            out[(mn.home_address, role)] = EspSA(
                spi,
                src,
                dst,
                enc,
                _key(result.seed, spi, "enc", enc_len),
                integ,
                _key(result.seed, spi, "auth", auth_len),
                origin=f"synth {role}",
            )
            spi += 1
    return out


def _role(wire: bytes, homes: dict[str, str]) -> tuple[str, str] | None:
    """(home address, role) of an MN-HA signalling packet, or None; ``homes``: home
    address -> its HA's address."""
    fields = decode_ipv6_fields(wire, 0, [])
    if fields is None or fields[8] is None:
        return None
    src, dst, hoa, rh2, tsrc, tdst = fields[:6]
    msg = decode_mh(fields[8], [])
    if msg is None:
        return None
    if tsrc is not None:  # tunnelled: HoTI MN->HA, HoT HA->MN
        if msg.MH_TYPE == C.MH_HOTI and homes.get(src) == tdst:
            return src, "hoti"
        if msg.MH_TYPE == C.MH_HOT and homes.get(dst) == tsrc:
            return dst, "hot"
        return None
    if isinstance(msg, BindingUpdate) and msg.flags & BU_FLAG_H and hoa and homes.get(hoa) == dst:
        return hoa, "bu"
    if msg.MH_TYPE == C.MH_BA and rh2 and homes.get(rh2) == src:
        return rh2, "ba"
    return None


def protect_run(result: SynthResult, algorithm: str = DEFAULT_ALGORITHM) -> ProtectedRun:
    """The run's packets with the MN-HA signalling ESP-protected (module doc)."""
    sas = run_sas(result, algorithm)
    sc = result.scenario
    homes = {
        mn.home_address: sc.home_agents[mn.home_agent].address for mn in sc.mobile_nodes.values()
    }
    seqs: Counter = Counter()
    run = ProtectedRun([], list(sas.values()))
    for ts, wire in result.packets:
        found = _role(wire, homes)
        if found is not None:
            sa = sas[found]
            seqs[sa.spi] += 1
            iv = hashlib.sha256(f"{result.seed}:{sa.spi}:{seqs[sa.spi]}".encode()).digest()
            wire = protect_packet(wire, sa, seqs[sa.spi], iv[: CIPHERS[sa.encryption].iv_len])
            run.protected[found[1]] += 1
        run.packets.append((ts, wire))
    return run


# --- the SA files --------------------------------------------------------------------------------

_WS_ENC = {"null": "NULL", "aes-cbc": "AES-CBC [RFC3602]", "aes-ctr": "AES-CTR [RFC3686]"}
_WS_ENC.update({f"aes-gcm-{n}": f"AES-GCM with {n} octet ICV [RFC4106]" for n in (8, 12, 16)})
_WS_AUTH = {
    "null": "NULL",
    "hmac-sha1-96": "HMAC-SHA-1-96 [RFC2404]",
    "hmac-sha256-128": "HMAC-SHA-256-128 [RFC4868]",
}
_XFRM_ENC = {"null": "ecb(cipher_null)", "aes-cbc": "cbc(aes)", "aes-ctr": "rfc3686(ctr(aes))"}
_XFRM_AUTH = {
    "hmac-sha1-96": ("hmac(sha1)", 96),
    "hmac-sha256-128": ("hmac(sha256)", 128),
    "aes-cmac-96": ("cmac(aes)", 96),
}


def _hex(key: SecretKey) -> str:
    return "0x" + key.octets.hex() if len(key) else ""


def wireshark_table(sas: list[EspSA]) -> str:
    """Wireshark's esp_sa UAT file (AES-CMAC-96 is not in Wireshark: such SAs are left out)."""
    lines = ["# Wireshark esp_sa table written by ebutool synth: holds keys"]
    for sa in sas:
        if sa.integrity not in _WS_AUTH:
            continue
        fields = [
            *("IPv6", sa.src, sa.dst, f"0x{sa.spi:08x}", _WS_ENC[sa.encryption]),
            *(_hex(sa.enc_key), _WS_AUTH[sa.integrity], _hex(sa.auth_key)),
        ]
        lines.append(",".join(f'"{f}"' for f in fields))
    return "\n".join(lines) + "\n"


def xfrm_state(sas: list[EspSA]) -> str:
    """``ip xfrm state`` output for the SAs (``::`` stands for a wildcard end)."""
    out = []
    for sa in sas:
        mode = "tunnel" if WILDCARD in (sa.src, sa.dst) else "transport"
        src, dst = (a if a != WILDCARD else "::" for a in (sa.src, sa.dst))
        out.append(f"src {src} dst {dst}\n\tproto esp spi 0x{sa.spi:08x} reqid 1 mode {mode}")
        out.append(f"\treplay-window {sa.window} flag af-unspec")
        if CIPHERS[sa.encryption].aead:
            bits = CIPHERS[sa.encryption].icv_len * 8
            out.append(f"\taead rfc4106(gcm(aes)) {_hex(sa.enc_key)} {bits}")
        else:
            name, bits = _XFRM_AUTH[sa.integrity]
            out.append(f"\tauth-trunc {name} {_hex(sa.auth_key)} {bits}")
            out.append(f"\tenc {_XFRM_ENC[sa.encryption]} {_hex(sa.enc_key) or '0x'}")
        out.append("\tsel src ::/0 dst ::/0 ")
    return "\n".join(out) + "\n"


def json_sas(sas: list[EspSA]) -> str:
    entries = [
        {
            "spi": f"0x{sa.spi:08x}",
            "src": sa.src,
            "dst": sa.dst,
            "encryption": sa.encryption,
            "enc_key": sa.enc_key.octets.hex(),
            "integrity": sa.integrity,
            "auth_key": sa.auth_key.octets.hex(),
        }
        for sa in sas
    ]
    return json.dumps({"esp_sas": entries}, indent=2) + "\n"


def write_secret(path: str, text: str, out: OutputFile | None = None) -> None:
    """Write ``text`` to ``path`` readable by its owner only (0600), as key files are,
    atomically (a temporary file renamed into place: an interrupted run leaves no half
    file; ebutool.core.output_file).  ``out``: the command's output for ``path``, put in
    place when the command ends; None: written and put in place now."""
    target = out if out is not None else OutputFile(path, "--esp-sa-out", secret=True)
    target.write(text.encode("utf-8"))
    if out is None:
        try:
            target.commit()
        finally:
            target.discard()


def write_sa_files(
    sas: list[EspSA], prefix: str, output: Callable[[str], OutputFile] | None = None
) -> list[str]:
    """PREFIX.esp_sa (Wireshark; not for AES-CMAC-96, which Wireshark lacks), PREFIX.xfrm
    (ip xfrm state), PREFIX.esp.json; their paths.  ``output(path)`` gives the command's
    output for each (ebutool.cli.options.output_file), else each is put in place now."""
    files = {f"{prefix}.xfrm": xfrm_state(sas), f"{prefix}.esp.json": json_sas(sas)}
    if all(sa.integrity in _WS_AUTH for sa in sas):
        files = {f"{prefix}.esp_sa": wireshark_table(sas), **files}
    for path, text in files.items():
        write_secret(path, text, output(path) if output is not None else None)
    return list(files)
