"""Errors that the command line reports as bad input (exit code 2)."""


class InputError(ValueError):
    """Input the user must fix: a missing file, a bad quantity, too few samples.

    The message is one line that names the problem; the command line prints it and
    exits with code 2 without touching anything.
    """


class InsufficientDataError(InputError):
    """Fewer than three usable samples, or all samples at one time."""
