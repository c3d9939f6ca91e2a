"""IPsec ESP (RFC 4303) decryption of Mobile IPv6 signalling with supplied SAs.

RFC 6275 protects BU/BA between mobile node and home agent with ESP (RFC 3776,
RFC 4877: transport mode for BU/BA, tunnel mode for HoTI/HoT on the MN-HA tunnel).
With the SAs (:func:`load_sa_files`: Wireshark's esp_sa file, ``ip xfrm state``
output, the ``esp_sas`` section of the keys JSON) the readers decrypt these packets
and analyse them as if they had been sent in clear (docs/esp.md).

Modules: ``sa`` (an SA, its selectors, the SA table), ``algorithms`` (the algorithm
table), ``decrypt`` (RFC 4303 inbound processing), ``context`` (ESP within a packet
stream), ``sa_files``/``xfrm``/``fields`` (the SA file readers).
"""

from ebutool.esp.context import EspContext
from ebutool.esp.sa import EspSA, SATable, SecretKey
from ebutool.esp.sa_files import load_sa_files, parse_sa_text

__all__ = ["EspContext", "EspSA", "SATable", "SecretKey", "load_sa_files", "parse_sa_text"]
