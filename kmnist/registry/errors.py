"""The one error type of the model registry, worded for the user."""


class ModelError(Exception):
    """A model problem, worded for the user: which file, what is wrong, how to fix it."""
