"""User-facing errors.

Every error a user can cause (a bad file, a bad option) is raised as one of these. The command
line prints ``str(error)`` as a single line and exits with code 2; any other exception is a bug
and keeps its traceback.
"""


class CaseStudyError(Exception):
    """Base class of the errors that are the user's to fix; the message is one line."""

    def __init__(self, message: str):
        # One line on stderr: collapse any accidental newlines in composed messages.
        super().__init__(" ".join(str(message).split()))


class DataError(CaseStudyError):
    """The data cannot be used: unreadable file, missing column, wrong values, too few rows."""


class ConfigError(CaseStudyError):
    """An option is invalid: out of range, inconsistent with another option, unknown study."""
