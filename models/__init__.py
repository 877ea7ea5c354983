"""Model files shipped with avatar-bridge (installed as the `avatar_bridge_models` package)."""
