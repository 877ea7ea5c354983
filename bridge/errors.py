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
