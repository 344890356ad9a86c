"""The command line's exit codes (shared by its command modules)."""

EXIT_OK = 0
EXIT_FAILED = 1  # a sweep whose workers failed: the finished runs are kept
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM, as a shell reports a process that SIGTERM ended
