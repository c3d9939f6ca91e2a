"""Wire formats: IPv6 and its extension headers, the Mobility Header, building packets."""


def forget_decoded() -> None:
    """Empty the decoder's caches (address texts, option values) once a whole input is
    read (ebutool.analysis.rows.build_rows).  They only save work, so emptying them
    changes no output; kept, their last few thousand entries were allocated among the
    analysis' short-lived objects and kept ~20 MB of the allocator's arenas resident
    after those were freed (docs/performance.md, issue 12)."""
    from ebutool.core import addr
    from ebutool.wire import ipv6
    from ebutool.wire.mh import mobility_options

    ipv6._TEXT.clear()
    for cached in (addr.ntop, addr.pton, *vars(mobility_options).values()):
        if hasattr(cached, "cache_clear"):
            cached.cache_clear()
