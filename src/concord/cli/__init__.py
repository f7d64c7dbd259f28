"""The ``concord`` command line (Typer): one module per command group, all thin."""
