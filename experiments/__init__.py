"""Experiments: sweeps and batch runs over scenarios (filled in by later issues)."""
