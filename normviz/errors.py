"""The one exception type of normviz."""


class NormvizError(ValueError):
    """A bad input or setting: the message says what was wrong, what was given, and what to do."""
