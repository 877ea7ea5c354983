@icon("res://addons/avatar_bridge/icons/avatar_bridge.svg")
class_name AvatarBridgeBlendshapeDriver
extends AvatarBridgeDriver
## Drives [MeshInstance3D] blend shapes with the blendshape values of a receiver.
##
## Every MeshInstance3D at or under [member target] whose mesh has blend shapes is driven.
## Incoming names (ARKit with the sidecar's default preset, VRM 0.x or VRM 1.0 names with the
## "vrm0"/"vrm1" presets) are matched to mesh blend shape names automatically: case-insensitive,
## ignoring separators, a "_L"/"_R" side suffix read as Left/Right, exporter prefixes such as
## "blendShape1." or "ARKit_" stripped, and VRM 0.x and 1.0 names accepted for each other
## (A = aa, Joy = happy, Blink_L = blinkLeft, ...). An [member mapping] resource overrides or
## extends the automatic matching. When several incoming names drive one blend shape, the
## largest value wins.

## A MeshInstance3D, or any node above the avatar's meshes. Setting it re-scans the meshes.
@export var target: Node:
	set(value):
		target = value
		if is_inside_tree():
			refresh()
## Optional explicit mapping; see [AvatarBridgeBlendshapeMapping].
@export var mapping: AvatarBridgeBlendshapeMapping:
	set(value):
		mapping = value
		_routes.clear()
## 0 applies each value as received; closer to 1 smooths more (exponential, per frame).
@export_range(0.0, 0.95, 0.01) var smoothing: float = 0.0

var _meshes: Array[MeshInstance3D] = []
## Per mesh: normalized blend shape name -> blend shape index.
var _shape_keys: Array[Dictionary] = []
## Incoming name -> Array of [mesh index, blend shape index, weight].
var _routes: Dictionary = {}
## (mesh index << 16) | blend shape index -> true, for every blend shape driven so far.
var _driven: Dictionary = {}


func _ready() -> void:
	super()
	refresh()


## Re-scans [member target] for meshes and forgets the cached name matches. Call it after
## swapping the avatar's meshes at run time.
func refresh() -> void:
	_meshes.clear()
	_shape_keys.clear()
	_routes.clear()
	_driven.clear()
	if target != null:
		_collect_meshes(target)


## Where each incoming name seen so far goes: name -> Array of "MeshNode:blendShape" strings
## (empty for names that matched nothing). Handy to check a model's matching in the debugger.
func get_matches() -> Dictionary:
	var report := {}
	for source: String in _routes:
		var targets := PackedStringArray()
		for route: Array in _routes[source]:
			var mesh := _meshes[route[0]]
			var array_mesh := mesh.mesh as ArrayMesh
			targets.append("%s:%s" % [mesh.name, array_mesh.get_blend_shape_name(route[1])])
		report[source] = targets
	return report


func apply_frame(frame: Dictionary) -> void:
	if _meshes.is_empty():
		return
	var values: Dictionary = frame.get("blendshapes", {})
	var results := {}
	for source: String in values:
		var value := float(values[source])
		for route: Array in _routes_for(source):
			var key: int = (int(route[0]) << 16) | int(route[1])
			var weighted := value * float(route[2])
			if not results.has(key) or weighted > float(results[key]):
				results[key] = weighted
	for key: int in results:
		if not is_instance_valid(_meshes[key >> 16]):
			continue
		var mesh := _meshes[key >> 16]
		var shape := key & 0xFFFF
		var value := float(results[key])
		if mapping != null:
			value = mapping.finish(value)
		if smoothing > 0.0:
			value = lerpf(value, mesh.get_blend_shape_value(shape), smoothing)
		mesh.set_blend_shape_value(shape, value)
		_driven[key] = true


## Sets every blend shape driven so far back to 0.
func reset_driven() -> void:
	for key: int in _driven:
		if is_instance_valid(_meshes[key >> 16]):
			_meshes[key >> 16].set_blend_shape_value(key & 0xFFFF, 0.0)


func _routes_for(source: String) -> Array:
	if _routes.has(source):
		return _routes[source]
	var routes: Array = []
	if mapping == null or not mapping.is_ignored(source):
		var weight := 1.0 if mapping == null else mapping.weight_for(source)
		var explicit := PackedStringArray() if mapping == null else mapping.targets_for(source)
		if not explicit.is_empty():
			for target_name in explicit:
				for i in _meshes.size():
					var shape := _find_shape(i, target_name)
					if shape >= 0:
						routes.append([i, shape, weight])
		elif mapping == null or mapping.auto_match:
			var keys := AvatarBridgeNames.shape_match_keys(source)
			for i in _meshes.size():
				for key in keys:
					if _shape_keys[i].has(key):
						routes.append([i, _shape_keys[i][key], weight])
						break
	_routes[source] = routes
	return routes


## Index of blend shape [param shape_name] in mesh [param mesh_index]: the exact name first,
## then the normalized one. -1 when absent.
func _find_shape(mesh_index: int, shape_name: String) -> int:
	var shape := _meshes[mesh_index].find_blend_shape_by_name(shape_name)
	if shape >= 0:
		return shape
	return _shape_keys[mesh_index].get(AvatarBridgeNames.normalize_shape_name(shape_name), -1)


func _collect_meshes(node: Node) -> void:
	var mesh_instance := node as MeshInstance3D
	if mesh_instance != null:
		var array_mesh := mesh_instance.mesh as ArrayMesh
		if array_mesh != null and array_mesh.get_blend_shape_count() > 0:
			var keys := {}
			for i in array_mesh.get_blend_shape_count():
				var name_key := AvatarBridgeNames.normalize_shape_name(
					String(array_mesh.get_blend_shape_name(i))
				)
				if not keys.has(name_key):
					keys[name_key] = i
			_meshes.append(mesh_instance)
			_shape_keys.append(keys)
	for child in node.get_children():
		_collect_meshes(child)
