class_name AvatarBridgeControlCommands
extends RefCounted
## The sidecar's control messages, one static function per command.
##
## Each returns the message as a Dictionary for [method AvatarBridgeReceiver.send_control],
## e.g. [code]receiver.send_control(AvatarBridgeControlCommands.set_preset("vrm1"), "p1")[/code].
## The commands and their arguments are those of the sidecar's WebSocket server
## (bridge/protocols/jsonframe.py COMMANDS, docs/wire-formats.md); tests/test_godot_addon.py
## checks that they agree. The sidecar judges the values (name lengths, tuning keys, output
## names) and answers a bad one with a reply whose "ok" is false. No scene dependencies.

## The sidecar's command names, in the order its hello lists them.
const NAMES := [
	"calibrate",
	"reload_config",
	"pause",
	"resume",
	"ping",
	"subscribe",
	"set_preset",
	"set_shape",
	"set_output",
	"rename",
	"save_config",
]


## Captures the neutral face and saves the calibration profile.
static func calibrate() -> Dictionary:
	return {"type": "calibrate"}


## Re-reads the sidecar's config file.
static func reload_config() -> Dictionary:
	return {"type": "reload_config"}


## Stops tracking and sending until [method resume].
static func pause() -> Dictionary:
	return {"type": "pause"}


## Restarts tracking and sending after [method pause].
static func resume() -> Dictionary:
	return {"type": "resume"}


## Answered with "pong"; checks the command path end to end.
static func ping() -> Dictionary:
	return {"type": "ping"}


## Whether this connection receives the sidecar's camera preview messages (for a dashboard;
## the receiver skips them).
static func subscribe(preview: bool) -> Dictionary:
	return {"type": "subscribe", "preview": preview}


## Switches the mapping preset ("arkit", "vrm0", "vrm1", "vrchat_unified"), live, not saved.
static func set_preset(preset: String) -> Dictionary:
	return {"type": "set_preset", "preset": preset}


## Tunes one output: [param key] is gain, offset, curve, dead_zone, min or max.
static func set_shape(shape: String, key: String, value: float) -> Dictionary:
	return {"type": "set_shape", "shape": shape, "key": key, "value": value}


## Adds or replaces output [param output] as a mix of ARKit name -> weight.
static func set_output(output: String, mix: Dictionary) -> Dictionary:
	return {"type": "set_output", "output": output, "mix": mix}


## Renames output [param output] to [param to], keeping its mix and tuning.
static func rename(output: String, to: String) -> Dictionary:
	return {"type": "rename", "output": output, "to": to}


## Writes the live mapping edits into the sidecar's TOML config.
static func save_config() -> Dictionary:
	return {"type": "save_config"}


## The JSON text of [param message] with [param id] (a String or int, echoed in the reply)
## when it is not null. Godot's [JSON] escapes the strings. Returns "" when a number in the
## message is not finite: JSON has no NaN or infinity.
static func encode(message: Dictionary, id: Variant = null) -> String:
	var out := message.duplicate(true)
	if id != null:
		out["id"] = id
	if not _finite(out):
		return ""
	return JSON.stringify(out)


static func _finite(value: Variant) -> bool:
	if typeof(value) == TYPE_FLOAT:
		return is_finite(value)
	if typeof(value) == TYPE_DICTIONARY:
		var items: Dictionary = value
		for item: Variant in items.values():
			if not _finite(item):
				return false
	return true
