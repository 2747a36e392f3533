"""The one exception type of normviz."""


class NormvizError(ValueError):
    """A bad input or setting: the message says what was wrong, what was given, and what to do.

    ``retry`` is True when the request itself was sound but the server had no room for it at that
    moment (see ``normviz.budget``): the same request may succeed later.
    """

    def __init__(self, message: str = "", *, retry: bool = False):
        super().__init__(message)
        self.retry = retry
