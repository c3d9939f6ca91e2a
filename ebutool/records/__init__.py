"""The message stream's unit: one Record per mobility-relevant packet, and how a packet
becomes one."""
