"""Wire formats: IPv6 and its extension headers, the Mobility Header, building packets."""
