"""Workloads: arrival processes (open and closed loop) and trace replay."""
