"""doctor and init-config."""
from __future__ import annotations

import argparse
from importlib import resources

from ..errors import ConfigError


def cmd_doctor(args: argparse.Namespace, status) -> int:
    from ..doctor import run_checks
    return run_checks(args.config, args.camera)


def cmd_init_config(args: argparse.Namespace, status) -> int:
    if args.path.exists():
        raise ConfigError(f"{args.path} already exists: choose another path or delete it first")
    text = resources.files("bridge.assets").joinpath("avatar-bridge.toml").read_text()
    args.path.write_text(text, encoding="utf-8")
    print(f"wrote {args.path}; run `avatar-bridge run --config {args.path}`")
    return 0


