@icon("res://addons/avatar_bridge/icons/avatar_bridge.svg")
class_name AvatarBridgeSkeletonDriver
extends AvatarBridgeDriver
## Drives a humanoid [Skeleton3D] with the bone rotations of a receiver.
##
## The sidecar sends Unity [code]HumanBodyBones[/code] names with local rotations relative to
## the normalized T-pose (every rest rotation is identity) in Unity's left-handed frame. For
## each bone this driver:
## [br]1. finds the skeleton bone: [member bone_overrides], else the Godot
## [SkeletonProfileHumanoid] name (Unity's thumb Proximal/Intermediate/Distal are Godot's
## Metacarpal/Proximal/Distal) through [member bone_map] if set, else that name in the
## skeleton, else a bone whose name ends with it after a separator ("mixamorig:Head");
## [br]2. converts the rotation to Godot: (x, -y, -z, w), a reflection across the YZ plane,
## because the avatar's right is +X in Unity but -X in Godot (models face +Z with their left
## at +X, [constant Vector3.MODEL_FRONT] since 4.3); a skeleton that faces -Z instead
## (detected from its rest pose, see [member facing]) gets the rotation turned by 180 degrees
## about Y;
## [br]3. applies it relative to the bone's rest pose: pose = rest * (G^-1 * q * G), G being
## the bone's global rest rotation, so a rotation the sidecar means in the avatar's space
## turns the bone the same way whatever its rest orientation (as UniVRM's normalized bones
## do in Unity).
## [br]Bone positions are ignored except, with [member apply_hips_position], the hips'.

## Which way the skeleton faces in its own space.
enum Facing {
	AUTO,  ## Detect from the rest pose (left leg/arm/shoulder/eye on +X = facing +Z).
	PLUS_Z,  ## Godot 4.3+ and glTF convention: front +Z, left +X.
	MINUS_Z,  ## Front -Z, left -X (e.g. VRM 0.x models imported as they are).
}

## The avatar's skeleton. Setting it re-reads the bones.
@export var skeleton: Skeleton3D:
	set(value):
		skeleton = value
		if is_inside_tree():
			refresh()
## Optional [BoneMap] (from the import retargeting) mapping Godot humanoid names to this
## skeleton's bone names.
@export var bone_map: BoneMap:
	set(value):
		bone_map = value
		if is_inside_tree():
			refresh()
## Unity HumanBodyBones name -> skeleton bone name, for bones found neither way.
@export var bone_overrides: Dictionary = {}
## Which way the skeleton faces.
@export var facing: Facing = Facing.AUTO:
	set(value):
		facing = value
		if is_inside_tree():
			refresh()
## 0 applies each rotation as received; closer to 1 smooths more (per frame).
@export_range(0.0, 0.95, 0.01) var smoothing: float = 0.0
## Also apply the Hips bone position (an absolute local position in metres, as EVMC4U reads
## it). Off by default: the sidecar's face mode sends zero positions.
@export var apply_hips_position: bool = false
## Optional node that follows /VMC/Ext/Root/Pos (the frame's "root"), relative to its
## transform when the first frame arrives.
@export var root_node: Node3D

## HumanBodyBones name -> [bone index, rest rotation, global rest rotation], or [] if absent.
var _bones: Dictionary = {}
var _faces_minus_z: bool = false
var _root_rest: Transform3D = Transform3D.IDENTITY
var _root_rest_known: bool = false


func _ready() -> void:
	super()
	refresh()


## Unity rotation -> rotation in the skeleton's model space: (x, -y, -z, w), then turned by
## 180 degrees about Y when the skeleton faces -Z.
static func to_model_rotation(unity_rotation: Quaternion, faces_minus_z: bool) -> Quaternion:
	var rotation := AvatarBridgeOscParser.unity_to_godot_rotation(unity_rotation)
	if faces_minus_z:
		return Quaternion(-rotation.x, rotation.y, -rotation.z, rotation.w)
	return rotation


## Unity position -> position in the skeleton's model space: (-x, y, z), then turned by 180
## degrees about Y when the skeleton faces -Z.
static func to_model_position(unity_position: Vector3, faces_minus_z: bool) -> Vector3:
	var position := AvatarBridgeOscParser.unity_to_godot_position(unity_position)
	if faces_minus_z:
		return Vector3(-position.x, position.y, -position.z)
	return position


## The local pose rotation that turns a bone with local rest rotation [param rest] and global
## rest rotation [param global_rest] by [param model_rotation] (a rotation in model space,
## relative to the parent's own turn): rest * (global_rest^-1 * model_rotation * global_rest).
static func pose_rotation(
	rest: Quaternion, global_rest: Quaternion, model_rotation: Quaternion
) -> Quaternion:
	return (rest * (global_rest.inverse() * model_rotation * global_rest)).normalized()


## Re-reads the skeleton's bones and facing. Call it after changing the skeleton's rest pose.
func refresh() -> void:
	_bones.clear()
	_faces_minus_z = false
	if skeleton == null:
		return
	match facing:
		Facing.MINUS_Z:
			_faces_minus_z = true
		Facing.AUTO:
			_faces_minus_z = _detect_minus_z()


## True when the skeleton was found (or set) to face -Z.
func faces_minus_z() -> bool:
	return _faces_minus_z


## Names of the received bones that this skeleton lacks.
func get_missing_bones() -> PackedStringArray:
	var missing := PackedStringArray()
	for unity_name: String in _bones:
		if (_bones[unity_name] as Array).is_empty():
			missing.append(unity_name)
	return missing


func apply_frame(frame: Dictionary) -> void:
	if skeleton == null:
		return
	var bones: Dictionary = frame.get("bones", {})
	for unity_name: String in bones:
		var info := _bone_info(unity_name)
		if info.is_empty():
			continue
		var pose: Dictionary = bones[unity_name]
		var index: int = info[0]
		var model_rotation := to_model_rotation(pose["rotation"], _faces_minus_z)
		var rotation := pose_rotation(info[1], info[2], model_rotation)
		if smoothing > 0.0:
			rotation = rotation.slerp(skeleton.get_bone_pose_rotation(index), smoothing)
		skeleton.set_bone_pose_rotation(index, rotation)
		if apply_hips_position and unity_name == "Hips":
			skeleton.set_bone_pose_position(
				index, to_model_position(pose["position"], _faces_minus_z)
			)
	if root_node != null and frame.has("root"):
		_apply_root(frame["root"])


## Returns the driven bones to their rest pose and [member root_node] to where it started.
func reset_driven() -> void:
	if skeleton == null:
		return
	for unity_name: String in _bones:
		var info: Array = _bones[unity_name]
		if not info.is_empty():
			var index: int = info[0]
			skeleton.set_bone_pose_rotation(index, info[1])
			skeleton.set_bone_pose_position(index, skeleton.get_bone_rest(index).origin)
	if root_node != null and _root_rest_known:
		root_node.transform = _root_rest


func _apply_root(root: Dictionary) -> void:
	if not _root_rest_known:
		_root_rest = root_node.transform
		_root_rest_known = true
	var rotation := to_model_rotation(root["rotation"], _faces_minus_z)
	var position := to_model_position(root["position"], _faces_minus_z)
	root_node.transform = _root_rest * Transform3D(Basis(rotation), position)


func _bone_info(unity_name: String) -> Array:
	if _bones.has(unity_name):
		return _bones[unity_name]
	var info: Array = []
	var index := _find_bone(unity_name)
	if index >= 0:
		info = [
			index,
			skeleton.get_bone_rest(index).basis.get_rotation_quaternion(),
			_global_rest(index).basis.get_rotation_quaternion(),
		]
	_bones[unity_name] = info
	return info


## The skeleton bone for a Unity HumanBodyBones name, or -1.
func _find_bone(unity_name: String) -> int:
	if bone_overrides.has(unity_name):
		return skeleton.find_bone(str(bone_overrides[unity_name]))
	var profile_name := AvatarBridgeNames.godot_bone_name(unity_name)
	if profile_name.is_empty():
		return -1
	if bone_map != null:
		var mapped := bone_map.get_skeleton_bone_name(profile_name)
		if mapped != &"":
			return skeleton.find_bone(mapped)
	var index := skeleton.find_bone(profile_name)
	if index >= 0:
		return index
	for i in skeleton.get_bone_count():
		if AvatarBridgeNames.bone_name_matches(skeleton.get_bone_name(i), profile_name):
			return i
	return -1


## The bone's rest transform in skeleton space (the product of the rests up the chain).
func _global_rest(bone: int) -> Transform3D:
	var transform := Transform3D.IDENTITY
	var current := bone
	while current >= 0:
		transform = skeleton.get_bone_rest(current) * transform
		current = skeleton.get_bone_parent(current)
	return transform


## True when the rest pose puts the avatar's left side on -X (the skeleton faces -Z).
func _detect_minus_z() -> bool:
	var pairs := [
		["LeftUpperLeg", "RightUpperLeg"],
		["LeftUpperArm", "RightUpperArm"],
		["LeftShoulder", "RightShoulder"],
		["LeftEye", "RightEye"],
	]
	for pair: Array in pairs:
		var left := _find_bone(pair[0])
		var right := _find_bone(pair[1])
		if left >= 0 and right >= 0:
			var dx := _global_rest(left).origin.x - _global_rest(right).origin.x
			if absf(dx) > 1.0e-4:
				return dx < 0.0
	return false
