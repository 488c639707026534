"""Simulated supplier portal with a scenario clock and fault switches."""
