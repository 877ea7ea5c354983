@icon("res://addons/avatar_bridge/icons/avatar_bridge.svg")
class_name AvatarBridgeBlendshapeMapping
extends Resource
## Editable mapping from avatar-bridge blendshape names to a mesh's blend shape names.
##
## Save it as a .tres and assign it to [member AvatarBridgeBlendshapeDriver.mapping]. Names
## listed in [member bindings] take precedence over automatic matching; the others are
## matched automatically (ARKit / VRM 0.x / VRM 1.0, case-insensitive, common prefixes
## stripped) unless [member auto_match] is off.

## Source name (as sent by the sidecar, e.g. "jawOpen" or "Joy") -> target mesh blend shape
## name (a String), or several targets (an Array or PackedStringArray of names).
@export var bindings: Dictionary = {}
## Source name -> multiplier applied to its value (default 1.0).
@export var weights: Dictionary = {}
## Source names never applied.
@export var ignored: PackedStringArray = PackedStringArray()
## Match names not listed in [member bindings] automatically.
@export var auto_match: bool = true
## Multiplier applied to every value, after [member weights].
@export_range(0.0, 4.0, 0.01) var gain: float = 1.0
## Clamp the results to 0..1.
@export var clamp_values: bool = true


## The target blend shape names bound to [param source], empty when it is not bound.
func targets_for(source: String) -> PackedStringArray:
	if not bindings.has(source):
		return PackedStringArray()
	var target: Variant = bindings[source]
	match typeof(target):
		TYPE_STRING, TYPE_STRING_NAME:
			return PackedStringArray([str(target)])
		TYPE_ARRAY, TYPE_PACKED_STRING_ARRAY:
			var names := PackedStringArray()
			for item: Variant in target:
				names.append(str(item))
			return names
	return PackedStringArray()


## The multiplier for [param source] (its [member weights] entry times [member gain]).
func weight_for(source: String) -> float:
	return float(weights.get(source, 1.0)) * gain


## True when [param source] is in [member ignored].
func is_ignored(source: String) -> bool:
	return ignored.has(source)


## [param value] after [member clamp_values].
func finish(value: float) -> float:
	return clampf(value, 0.0, 1.0) if clamp_values else value
