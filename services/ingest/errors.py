"""The one error a mapping raises: the payload cannot become canonical events."""


class MappingError(ValueError):
    """Answered with 422; the raw payload goes to `deadletter` with this message."""
