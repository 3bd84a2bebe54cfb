"""Errors that stop a process at start with a message saying what to fix (exit code 2).
`leakwatch.cli.main` prints them; no command repeats that handling."""


class StartupError(RuntimeError):
    pass
