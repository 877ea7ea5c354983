@icon("res://addons/avatar_bridge/icons/avatar_bridge.svg")
class_name AvatarBridgeTriggerDriver
extends AvatarBridgeDriver
## Turns the sidecar's trigger events into signals and [AnimationTree] conditions/parameters.
##
## Events come in WebSocket frames only (VMC carries none), as objects with at least a
## "type": for example {"type": "expression", "name": "happy", "state": "start"} or
## {"type": "action", "name": "wave"}. An event with a "state" is held: "start" (also "begin",
## "on", true) makes it active until a matching "end" (also "stop", "off", false); an event
## without a state is a one-shot, active for [member pulse_seconds].
## [br][br]
## For each trigger this driver sets, on [member animation_tree]:
## [code]parameters/conditions/<condition_prefix><name>[/code] = true while it is active
## (false when it ends), so state machine transitions can use the name as their advance
## condition; for held triggers also [code]<inverse_condition_prefix><condition_prefix><name>
## [/code] = the opposite, for the transition back (e.g. "not_happy"); and every parameter
## listed for the name in [member parameter_map] to the event's "value" (or 1.0), 0.0 when it
## ends. Setting a parameter the tree does not have does nothing.

## A held trigger started or ended ([param active]); [param event] is the event that did it.
signal trigger_changed(type: String, trigger_name: String, active: bool, event: Dictionary)
## An expression started or ended, e.g. ("happy", true).
signal expression_changed(expression_name: String, active: bool)
## A one-shot trigger such as an action ("wave") or a gesture without a state.
signal action_triggered(action_name: String, event: Dictionary)

const START_STATES := ["start", "begin", "on", "started", "true"]
const END_STATES := ["end", "stop", "off", "ended", "stopped", "false"]

## AnimationTree to drive; leave empty to use the signals only.
@export var animation_tree: AnimationTree
## Prefix for condition names, e.g. "expr_" gives parameters/conditions/expr_happy.
@export var condition_prefix: String = ""
## Prefix of the opposite condition of held triggers ("" to not set it).
@export var inverse_condition_prefix: String = "not_"
## Trigger name -> AnimationTree parameter path (String) or paths (Array), e.g.
## {"happy": "parameters/Happy/blend_amount"}; set to the event's value (default 1.0) while
## active and 0.0 after.
@export var parameter_map: Dictionary = {}
## How long a one-shot trigger's condition stays true.
@export_range(0.02, 5.0, 0.01, "suffix:s") var pulse_seconds: float = 0.2
## Only these event types are handled (empty = all).
@export var event_types: PackedStringArray = PackedStringArray()

## "type/name" -> the event that started it, for every held trigger.
var _active: Dictionary = {}
## "type/name" -> seconds left, for one-shot triggers.
var _pulses: Dictionary = {}


func _process(delta: float) -> void:
	if _pulses.is_empty():
		return
	for key: String in _pulses.keys():
		var left: float = float(_pulses[key]) - delta
		if left > 0.0:
			_pulses[key] = left
		else:
			_pulses.erase(key)
			var parts := key.split("/", true, 1)
			_set_animation(parts[1], false, 0.0, false)


## Handles one event (connected to [signal AvatarBridgeReceiver.event_received]; call it
## yourself to test a trigger). Events without a string "name" use their "type" as name.
func handle_event(event: Dictionary) -> void:
	var type := str(event.get("type", ""))
	if type.is_empty() or (not event_types.is_empty() and not event_types.has(type)):
		return
	var trigger_name := str(event.get("name", type))
	var key := type + "/" + trigger_name
	var value := 1.0
	if typeof(event.get("value")) in [TYPE_INT, TYPE_FLOAT]:
		value = float(event["value"])
	if not event.has("state"):
		_pulses[key] = pulse_seconds
		_set_animation(trigger_name, true, value, false)
		action_triggered.emit(trigger_name, event)
		return
	var state := str(event["state"]).to_lower()
	if state in START_STATES:
		var was_active := _active.has(key)
		_active[key] = event
		_set_animation(trigger_name, true, value, true)
		if not was_active:
			_emit_change(type, trigger_name, true, event)
	elif state in END_STATES and _active.has(key):
		_active.erase(key)
		_set_animation(trigger_name, false, 0.0, true)
		_emit_change(type, trigger_name, false, event)


## True while the held trigger [param trigger_name] of [param type] is active.
func is_active(type: String, trigger_name: String) -> bool:
	return _active.has(type + "/" + trigger_name)


## Ends every held trigger (as if each had received its "end").
func end_all() -> void:
	for key: String in _active.keys():
		var event: Dictionary = _active[key]
		var parts := key.split("/", true, 1)
		_active.erase(key)
		_set_animation(parts[1], false, 0.0, true)
		_emit_change(parts[0], parts[1], false, event)


## Ends every held trigger ([method end_all]).
func reset_driven() -> void:
	end_all()


func _emit_change(type: String, trigger_name: String, active: bool, event: Dictionary) -> void:
	trigger_changed.emit(type, trigger_name, active, event)
	if type == "expression":
		expression_changed.emit(trigger_name, active)


func _set_animation(trigger_name: String, active: bool, value: float, held: bool) -> void:
	if animation_tree == null:
		return
	var condition := condition_prefix + trigger_name
	animation_tree.set("parameters/conditions/" + condition, active)
	if held and not inverse_condition_prefix.is_empty():
		var inverse := inverse_condition_prefix + condition
		animation_tree.set("parameters/conditions/" + inverse, not active)
	if not parameter_map.has(trigger_name):
		return
	var paths: Variant = parameter_map[trigger_name]
	if typeof(paths) == TYPE_STRING:
		paths = [paths]
	for path: Variant in paths:
		animation_tree.set(str(path), value if active else 0.0)
