"""latsim: a discrete-event simulator of Amazon VPC Lattice."""

__version__ = "0.1.0"
