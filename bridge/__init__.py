"""avatar-bridge: a tracking sidecar that drives avatars over VMC, VRChat OSC and WebSocket."""

__version__ = "0.1.0"
