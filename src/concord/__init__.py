"""Concord: one shared language, and safe sharing, for the organisations fighting online child
sexual exploitation and abuse."""

__version__ = "0.1.0"
