ebutool: vantage of standard.pcap: mn (detected: 6 tunnelled HoTI/HoT, 3 BU to a home agent, 3 BU/EBU to a CN, 3 CoTI: home tests in the MN's tunnel or BUs to its home agent (an access router on the MN's path sees the same: --vantage PATH=path))
ebutool: 504 frames, 24 Mobility Header messages: 3 episodes (standard 3)
