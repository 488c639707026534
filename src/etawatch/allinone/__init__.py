"""The whole of etawatch in one process: the embedded demo and the single-server runner."""
