"""The ``dipsim`` command line: a leaf room that nothing else imports (docs/architecture.md).

``main`` parses the arguments with the standard library only and imports what a subcommand needs when
that subcommand runs, so ``dipsim --help`` does not pay for pydantic, Mesa or pandas.
"""

from sim.cli.main import main

__all__ = ["main"]
