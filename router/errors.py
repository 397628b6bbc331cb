"""The one exception root, so that callers can catch everything the router raises on purpose."""


class RouterError(Exception):
    """Base of every error the router raises deliberately."""


class InvalidMention(RouterError):
    """A record that cannot become a mention; its message is the dead-letter reason."""


class ConfigError(RouterError):
    """A routing config that cannot be loaded: the message names the file, the line and the problem."""


class ModelError(RouterError):
    """A classifier artifact that cannot be loaded or used."""
