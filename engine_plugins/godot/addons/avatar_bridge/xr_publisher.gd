@icon("res://addons/avatar_bridge/icons/avatar_bridge.svg")
class_name AvatarBridgeXRPublisher
extends AvatarBridgeDriver
## Publishes the receiver's frames as Godot 4.3+ [code]XRFaceTracker[/code] and
## [code]XRBodyTracker[/code] data.
##
## The trackers are registered with [XRServer] under [member face_tracker_name] and
## [member body_tracker_name] (the default names of [code]XRFaceModifier3D[/code] and
## [code]XRBodyModifier3D[/code]), so those nodes drive an avatar with no mapping at all:
## add an XRFaceModifier3D whose target is the face mesh and/or an XRBodyModifier3D under
## the avatar's Skeleton3D (bones named as Godot's SkeletonProfileHumanoid, e.g. after
## import retargeting).
## [br][br]
## Face: ARKit names (the sidecar's default preset) map onto the Unified Expressions entries
## of XRFaceTracker ([constant AvatarBridgeNames.ARKIT_TO_FACE_TRACKER]); other names are
## ignored (reported once). A mesh shape that XRFaceModifier3D cannot match by name
## ([constant AvatarBridgeNames.FACE_MODIFIER_MISSING_SHAPES]: ARKit's "browInnerUp") is set
## here, on the target mesh of every XRFaceModifier3D that reads this tracker, from the mean of
## the entries it stands for (both inner brows).
## [br][br]
## Body: each bone rotation is converted from Unity (x, -y, -z, w), applied to a humanoid
## rest pose ([member reference_skeleton]'s, else
## SkeletonProfileHumanoid's reference pose) and published as a joint transform in skeleton
## space; joints not in the frame stay at that rest pose.
## [br][br]
## On Godot 4.2 the tracker classes do not exist: this node then does nothing (one warning).
## The classes are only reached through [ClassDB] and [method Object.call], never by name,
## so the script still compiles there.

const FACE_TRACKER_CLASS := &"XRFaceTracker"
const BODY_TRACKER_CLASS := &"XRBodyTracker"
const FACE_MODIFIER_CLASS := &"XRFaceModifier3D"

## Publish the blendshapes as an XRFaceTracker.
@export var publish_face: bool = true
## XRServer name of the face tracker (XRFaceModifier3D's default is "/user/face_tracker").
@export var face_tracker_name: String = "/user/face_tracker"
## Publish the bones as an XRBodyTracker.
@export var publish_body: bool = true
## XRServer name of the body tracker (XRBodyModifier3D's default is "/user/body_tracker").
@export var body_tracker_name: String = "/user/body_tracker"
## Optional: the avatar's skeleton (Godot humanoid bone names, facing +Z), whose rest pose is
## used for the joint transforms; without it SkeletonProfileHumanoid's reference pose is used,
## which moves untracked bones (and the hips height) to that reference.
@export var reference_skeleton: Skeleton3D

var _face_tracker: RefCounted = null
var _body_tracker: RefCounted = null
var _face_weights: PackedFloat32Array = PackedFloat32Array()
## Incoming blendshape name -> PackedInt32Array of XRFaceTracker entries (cached per name).
var _face_routes: Dictionary = {}
## Normalized ARKit name -> PackedInt32Array of XRFaceTracker entries.
var _arkit_routes: Dictionary = {}
## [blended entry, PackedInt32Array of its components] for every blended entry.
var _face_blends: Array = []
var _warned_names: bool = false
## Normalized mesh shape name -> PackedInt32Array of the entries it is the mean of.
var _missing_routes: Dictionary = {}
## [MeshInstance3D, blend shape index, PackedInt32Array of entries] per shape of an
## XRFaceModifier3D target that the modifier cannot match.
var _modifier_shapes: Array = []
## Set when an XRFaceModifier3D enters the tree: its target is looked up at the next frame.
var _modifier_scan_due: bool = true
## One Array per published bone, parents first: [parent link index, local rest Transform3D,
## global rest rotation, joint constant, Unity bone name].
var _chain: Array = []
var _joint_root: int = 0
var _valid_flags: int = 0
var _tracked_flag: int = 0
var _body_flag_upper: int = 0
var _body_flag_lower: int = 0
var _body_flag_hands: int = 0


func _ready() -> void:
	super()
	if not is_supported():
		push_warning(
			(
				"AvatarBridgeXRPublisher: XRFaceTracker/XRBodyTracker need Godot 4.3 or later;"
				+ " nothing is published."
			)
		)
		return
	if publish_face:
		_setup_face()
	if publish_body:
		_setup_body()


func _exit_tree() -> void:
	for tracker: RefCounted in [_face_tracker, _body_tracker]:
		if tracker != null:
			XRServer.call(&"remove_tracker", tracker)
	_face_tracker = null
	_body_tracker = null


## True when this Godot has XRFaceTracker and XRBodyTracker (4.3 and later).
static func is_supported() -> bool:
	return ClassDB.class_exists(FACE_TRACKER_CLASS) and ClassDB.class_exists(BODY_TRACKER_CLASS)


## The registered XRFaceTracker, or null.
func get_face_tracker() -> RefCounted:
	return _face_tracker


## The registered XRBodyTracker, or null.
func get_body_tracker() -> RefCounted:
	return _body_tracker


## Rebuilds the body joints' rest pose, e.g. after assigning [member reference_skeleton], and
## looks up the XRFaceModifier3D meshes again, e.g. after changing a modifier's target.
func refresh() -> void:
	_modifier_scan_due = true
	if _body_tracker != null:
		_build_chain()


func apply_frame(frame: Dictionary) -> void:
	if _face_tracker != null:
		_publish_face(frame.get("blendshapes", {}))
	if _body_tracker != null:
		_publish_body(frame.get("bones", {}), bool(frame.get("found", true)))


## Zeroes the published blend shapes and marks the body as untracked.
func reset_driven() -> void:
	if _face_tracker != null:
		_face_weights.fill(0.0)
		_face_tracker.call(&"set_blend_shapes", _face_weights)
		_drive_modifier_shapes()
	if _body_tracker != null:
		_body_tracker.call(&"set_has_tracking_data", false)


func _setup_face() -> void:
	_face_tracker = ClassDB.instantiate(FACE_TRACKER_CLASS)
	_face_tracker.set(&"name", face_tracker_name)
	_face_tracker.set(&"description", "avatar-bridge face")
	_face_weights.resize(_constant(FACE_TRACKER_CLASS, "FT_MAX"))
	for arkit_name: String in AvatarBridgeNames.ARKIT_TO_FACE_TRACKER:
		var entries: Array = AvatarBridgeNames.ARKIT_TO_FACE_TRACKER[arkit_name]
		_arkit_routes[AvatarBridgeNames.normalize_shape_name(arkit_name)] = _constants(entries)
	for blend: Array in AvatarBridgeNames.FACE_TRACKER_BLENDS:
		var unified := _constant(FACE_TRACKER_CLASS, blend[0])
		if unified >= 0:
			_face_blends.append([unified, _constants(blend[1])])
	for shape_name: String in AvatarBridgeNames.FACE_MODIFIER_MISSING_SHAPES:
		var parts: Array = AvatarBridgeNames.FACE_MODIFIER_MISSING_SHAPES[shape_name]
		_missing_routes[AvatarBridgeNames.normalize_shape_name(shape_name)] = _constants(parts)
	get_tree().node_added.connect(_on_node_added)
	XRServer.call(&"add_tracker", _face_tracker)


func _setup_body() -> void:
	_body_tracker = ClassDB.instantiate(BODY_TRACKER_CLASS)
	_body_tracker.set(&"name", body_tracker_name)
	_body_tracker.set(&"description", "avatar-bridge body")
	_joint_root = _constant(BODY_TRACKER_CLASS, "JOINT_ROOT")
	_valid_flags = (
		_constant(BODY_TRACKER_CLASS, "JOINT_FLAG_ORIENTATION_VALID")
		| _constant(BODY_TRACKER_CLASS, "JOINT_FLAG_POSITION_VALID")
	)
	_tracked_flag = _constant(BODY_TRACKER_CLASS, "JOINT_FLAG_ORIENTATION_TRACKED")
	_body_flag_upper = _constant(BODY_TRACKER_CLASS, "BODY_FLAG_UPPER_BODY_SUPPORTED")
	_body_flag_lower = _constant(BODY_TRACKER_CLASS, "BODY_FLAG_LOWER_BODY_SUPPORTED")
	_body_flag_hands = _constant(BODY_TRACKER_CLASS, "BODY_FLAG_HANDS_SUPPORTED")
	_build_chain()
	XRServer.call(&"add_tracker", _body_tracker)


func _publish_face(values: Dictionary) -> void:
	_face_weights.fill(0.0)
	var direct := {}
	for source: String in values:
		var entries := _face_entries(source)
		var value := clampf(float(values[source]), 0.0, 1.0)
		for entry in entries:
			_face_weights[entry] = value
			direct[entry] = true
	for blend: Array in _face_blends:
		var unified: int = blend[0]
		if direct.has(unified):
			continue
		var components: PackedInt32Array = blend[1]
		var total := 0.0
		for component in components:
			total += _face_weights[component]
		_face_weights[unified] = total / maxf(1.0, components.size())
	_face_tracker.call(&"set_blend_shapes", _face_weights)
	_drive_modifier_shapes()


func _on_node_added(node: Node) -> void:
	if node.is_class(FACE_MODIFIER_CLASS):
		_modifier_scan_due = true


## Sets the shapes XRFaceModifier3D cannot match from the published weights.
func _drive_modifier_shapes() -> void:
	if _modifier_scan_due:
		_scan_face_modifiers()
	for shape: Array in _modifier_shapes:
		if not is_instance_valid(shape[0]):  # freed since the scan: a typed variable cannot hold it
			continue
		var mesh: MeshInstance3D = shape[0]
		var entries: PackedInt32Array = shape[2]
		var total := 0.0
		for entry in entries:
			total += _face_weights[entry]
		mesh.set_blend_shape_value(shape[1], total / maxf(1.0, entries.size()))


## Finds the target mesh of every XRFaceModifier3D that reads this tracker and the shapes on it
## that only this node drives.
func _scan_face_modifiers() -> void:
	_modifier_scan_due = false
	_modifier_shapes.clear()
	if not is_inside_tree():
		return
	for modifier: Node in get_tree().root.find_children("*", FACE_MODIFIER_CLASS, true, false):
		if String(modifier.get(&"face_tracker")) != face_tracker_name:
			continue
		var mesh := modifier.get_node_or_null(modifier.get(&"target")) as MeshInstance3D
		if mesh == null or not mesh.mesh is ArrayMesh:
			continue
		var array_mesh: ArrayMesh = mesh.mesh
		for i in array_mesh.get_blend_shape_count():
			var key := AvatarBridgeNames.normalize_shape_name(
				String(array_mesh.get_blend_shape_name(i))
			)
			if _missing_routes.has(key):
				_modifier_shapes.append([mesh, i, _missing_routes[key]])


func _face_entries(source: String) -> PackedInt32Array:
	if _face_routes.has(source):
		return _face_routes[source]
	var key := AvatarBridgeNames.normalize_shape_name(source)
	var entries: PackedInt32Array = _arkit_routes.get(key, PackedInt32Array())
	if entries.is_empty() and not _warned_names:
		_warned_names = true
		push_warning(
			(
				(
					'AvatarBridgeXRPublisher: blendshape "%s" is not an ARKit name; XRFaceTracker'
					+ ' gets ARKit names only (the sidecar\'s default "arkit" preset).'
				)
				% source
			)
		)
	_face_routes[source] = entries
	return entries


func _publish_body(bones: Dictionary, found: bool) -> void:
	var globals: Array[Transform3D] = []
	var body_flags := _body_flag_upper
	for link: Array in _chain:
		var parent: int = link[0]
		var local_rest: Transform3D = link[1]
		var unity_name: String = link[4]
		var local := local_rest
		var tracked := bones.has(unity_name)
		if tracked:
			var pose: Dictionary = bones[unity_name]
			var model_rotation := AvatarBridgeOscParser.unity_to_godot_rotation(pose["rotation"])
			var rotation := AvatarBridgeSkeletonDriver.pose_rotation(
				local_rest.basis.get_rotation_quaternion(), link[2], model_rotation
			)
			local = Transform3D(Basis(rotation), local_rest.origin)
			if _is_leg(unity_name):
				body_flags |= _body_flag_lower
			elif _is_finger(unity_name):
				body_flags |= _body_flag_hands
		var joint_transform := local if parent < 0 else globals[parent] * local
		globals.append(joint_transform)
		var joint: int = link[3]
		_body_tracker.call(&"set_joint_transform", joint, joint_transform)
		_body_tracker.call(
			&"set_joint_flags", joint, _valid_flags | (_tracked_flag if tracked else 0)
		)
	_body_tracker.call(&"set_joint_transform", _joint_root, Transform3D.IDENTITY)
	_body_tracker.call(&"set_joint_flags", _joint_root, _valid_flags)
	_body_tracker.call(&"set_body_flags", body_flags)
	_body_tracker.call(&"set_has_tracking_data", found)


## Orders the humanoid bones that have an XRBodyTracker joint (parents first) with their rest
## poses, from [member reference_skeleton] when it has the bone, else from the profile.
func _build_chain() -> void:
	_chain.clear()
	var unity_names := {}
	for unity_name: String in AvatarBridgeNames.UNITY_TO_GODOT_BONES:
		unity_names[AvatarBridgeNames.UNITY_TO_GODOT_BONES[unity_name]] = unity_name
	var profile := SkeletonProfileHumanoid.new()
	var links := {}  # Godot bone name -> index in _chain (or its nearest published ancestor's)
	var global_rests: Array[Transform3D] = []
	for i in profile.bone_size:
		var bone_name := String(profile.get_bone_name(i))
		var parent: int = links.get(String(profile.get_bone_parent(i)), -1)
		var joint_name: String = AvatarBridgeNames.BODY_JOINTS.get(bone_name, "")
		if bone_name == "Root" or joint_name.is_empty():
			links[bone_name] = parent
			continue
		var local_rest := profile.get_reference_pose(i)
		if reference_skeleton != null:
			var bone := reference_skeleton.find_bone(bone_name)
			if bone < 0:
				links[bone_name] = parent
				continue
			local_rest = reference_skeleton.get_bone_rest(bone)
		var global_rest := local_rest if parent < 0 else global_rests[parent] * local_rest
		links[bone_name] = _chain.size()
		global_rests.append(global_rest)
		(
			_chain
			. append(
				[
					parent,
					local_rest,
					global_rest.basis.get_rotation_quaternion(),
					_constant(BODY_TRACKER_CLASS, joint_name),
					unity_names.get(bone_name, ""),
				]
			)
		)


static func _is_leg(unity_name: String) -> bool:
	return unity_name.contains("Leg") or unity_name.contains("Foot") or unity_name.contains("Toes")


static func _is_finger(unity_name: String) -> bool:
	for finger: String in ["Thumb", "Index", "Middle", "Ring", "Little"]:
		if unity_name.contains(finger):
			return true
	return false


## An integer constant of a class that may not exist in this Godot version, or -1.
static func _constant(class_title: StringName, constant: String) -> int:
	if not ClassDB.class_has_integer_constant(class_title, constant):
		return -1
	return ClassDB.class_get_integer_constant(class_title, constant)


static func _constants(names: Array) -> PackedInt32Array:
	var values := PackedInt32Array()
	for constant_name: String in names:
		var value := _constant(FACE_TRACKER_CLASS, constant_name)
		if value >= 0:
			values.append(value)
	return values
