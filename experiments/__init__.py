"""The batch runner: experiment files, sweeps into resumable folders, their reports, and benchmarks."""
