"""Mapping edits made while running (from the dashboard or any WebSocket client), and saving them.

Edits are kept as raw config tables layered over the file and the flags, so each one goes
through the same validation as the config file and an invalid edit changes nothing. Saving
writes them into the TOML file with tomlkit, which keeps the user's comments, order and
unrelated keys.
"""
from __future__ import annotations

import copy
from pathlib import Path

import tomlkit

from .config import deep_merge
from .errors import ConfigError
from .mapping import TUNING_KEYS, Mapper


class LiveEdits:
    def __init__(self) -> None:
        self.tables: dict = {}

    def proposal(self, command: str, args: dict, mapper: Mapper, current_mix) -> dict:
        """The edit tables after `command`, not yet applied (the caller validates, then commits)."""
        t = copy.deepcopy(self.tables)
        m = t.setdefault("mapping", {})
        if command == "set_preset":
            m["preset"] = args["preset"]
        elif command == "set_shape":
            if args["key"] not in TUNING_KEYS:
                raise ConfigError(f"unknown tuning key {args['key']!r}; allowed: {', '.join(TUNING_KEYS)}")
            if args["shape"] not in mapper.names:
                raise ConfigError(f"{args['shape']!r} is not an output; outputs are {', '.join(mapper.names[:6])}...")
            m.setdefault("shapes", {}).setdefault(args["shape"], {})[args["key"]] = args["value"]
        elif command == "set_output":
            m.setdefault("outputs", {})[args["output"]] = args["mix"]
        elif command == "rename":
            old, new = args["output"], args["to"]
            if old not in mapper.names:
                raise ConfigError(f"{old!r} is not an output; outputs are {', '.join(mapper.names[:6])}...")
            if new in mapper.names:
                raise ConfigError(f"{new!r} is already an output: pick another name")
            m.setdefault("outputs", {})[new] = current_mix(old)
            outputs = m["outputs"]
            outputs.pop(old, None)
            shapes = m.get("shapes", {})
            if old in shapes:
                shapes[new] = shapes.pop(old)
            if old not in outputs:
                m["drop"] = sorted(set(m.get("drop", [])) | {old})
        return t

    def commit(self, tables: dict) -> None:
        self.tables = tables

    def layered(self, flag_overrides: dict) -> dict:
        return deep_merge(flag_overrides, self.tables)


def save_to_toml(path: Path, edits: dict, template: str) -> None:
    """Merge `edits` into the TOML file at `path` (created from `template` if missing)."""
    text = path.read_text(encoding="utf-8") if path.is_file() else template
    doc = tomlkit.parse(text)
    _merge_into(doc, edits)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(tomlkit.dumps(doc), encoding="utf-8")
    tmp.replace(path)


def _merge_into(container, edits: dict) -> None:
    for key, value in edits.items():
        if isinstance(value, dict) and not _is_mix(key, value):
            if key not in container or not isinstance(container[key], dict):
                container[key] = tomlkit.table()
            _merge_into(container[key], value)
        elif isinstance(value, dict):
            inline = tomlkit.inline_table()
            inline.update(value)
            container[key] = inline
        else:
            container[key] = value


def _is_mix(key: str, value: dict) -> bool:
    """Output mixes are written as inline tables, like the presets do."""
    return bool(value) and all(isinstance(v, float | int) for v in value.values()) and not set(value) <= set(TUNING_KEYS)
