"""Shared indicators: definitions, computation, baselines and trends, early warning, charts."""
