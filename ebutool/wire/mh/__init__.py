"""Mobility Header (RFC 6275 section 6) messages, options and their wire codec."""

from ebutool.wire.mh.codec import aligned, checksum_ok, decode_mh, encode_mh, mac_data, mh_checksum
from ebutool.wire.mh.messages import *  # noqa: F403 - the message classes are this package's API
from ebutool.wire.mh.messages import MESSAGE_CLASSES, MobilityMessage, OtherMobilityMessage
from ebutool.wire.mh.mobility_options import *  # noqa: F403

__all__ = [
    "aligned",
    "checksum_ok",
    "decode_mh",
    "encode_mh",
    "mac_data",
    "mh_checksum",
    "MESSAGE_CLASSES",
    "MobilityMessage",
    "OtherMobilityMessage",
]
