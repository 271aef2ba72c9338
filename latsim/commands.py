"""Registers the sub-commands that live beside their layers (run, explain, sweep, import, ...)."""
