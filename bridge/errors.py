"""User-facing errors: one line that says what is wrong and how to fix it."""


class BridgeError(Exception):
    """An error the user can fix; the CLI prints it as one line, without a traceback."""


class ConfigError(BridgeError):
    pass


class ModelError(BridgeError):
    pass


class SourceError(BridgeError):
    pass


class TransportError(BridgeError):
    pass


def show_key(key: object) -> str:
    """A config key as typed, or its repr when printing it raw could break a one-line message."""
    return key if isinstance(key, str) and key and key.isprintable() and key.strip() == key else repr(key)
