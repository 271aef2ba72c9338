"""Metrics: streaming histograms and recorders of what a run did."""

from latsim.metrics.histogram import LogHistogram

__all__ = ["LogHistogram"]
