"""The stateless correspondent-node oracle (RFC 6275 5.2, the EBU draft 4.1)."""
