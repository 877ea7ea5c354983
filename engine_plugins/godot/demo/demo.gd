extends Node3D
## Avatar Bridge demo: a procedurally built head on a small humanoid skeleton, driven by the
## receiver and drivers of demo.tscn.
##
## Everything visible is made here, with no imported asset: a Skeleton3D with Godot humanoid bone
## names (Root, Hips, Spine, Chest, UpperChest, Neck, Head, LeftEye, RightEye, shoulders and arms),
## facing +Z with its left at +X; a face mesh (ArrayMesh) with the ARKit blend shapes jawOpen,
## mouthSmileLeft and mouthSmileRight plus a custom "mouthO" that face_mapping.tres binds
## mouthFunnel and mouthPucker to; eye meshes with eyeBlinkLeft / eyeBlinkRight; and an
## AnimationTree whose state machine uses the trigger conditions "wave" (action) and "happy" /
## "not_happy" (expression). On Godot 4.3+ a second head, "XRTwin", is driven with no mapping at all
## by Godot's own XRFaceModifier3D and XRBodyModifier3D, from the XRFaceTracker / XRBodyTracker that
## AvatarBridgeXRPublisher fills.
## [br][br]
## Run the sidecar, then this scene. Keys: T switches VMC / WebSocket, C asks the sidecar to
## calibrate, S toggles a simulated stream (no sidecar needed).

const SKIN_COLOR := Color(0.96, 0.8, 0.69)
const DARK_COLOR := Color(0.12, 0.08, 0.08)
const EYE_COLOR := Color(0.97, 0.97, 0.97)
## Bone name, parent name, rest position (Godot humanoid: the avatar faces +Z, its left is +X).
## The upper body is complete (with Root and HeadTip) so that XRBodyModifier3D finds every
## upper-body joint; only the chest, head and eyes carry meshes.
const BONES := [
	["Root", "", Vector3.ZERO],
	["Hips", "Root", Vector3(0.0, 0.95, 0.0)],
	["Spine", "Hips", Vector3(0.0, 0.12, 0.0)],
	["Chest", "Spine", Vector3(0.0, 0.1, 0.0)],
	["UpperChest", "Chest", Vector3(0.0, 0.1, 0.0)],
	["Neck", "UpperChest", Vector3(0.0, 0.14, 0.0)],
	["Head", "Neck", Vector3(0.0, 0.08, 0.0)],
	["HeadTip", "Head", Vector3(0.0, 0.24, 0.0)],
	["LeftEye", "Head", Vector3(0.038, 0.1, 0.085)],
	["RightEye", "Head", Vector3(-0.038, 0.1, 0.085)],
	["LeftShoulder", "UpperChest", Vector3(0.04, 0.1, 0.0)],
	["LeftUpperArm", "LeftShoulder", Vector3(0.12, 0.0, 0.0)],
	["LeftLowerArm", "LeftUpperArm", Vector3(0.25, 0.0, 0.0)],
	["LeftHand", "LeftLowerArm", Vector3(0.25, 0.0, 0.0)],
	["RightShoulder", "UpperChest", Vector3(-0.04, 0.1, 0.0)],
	["RightUpperArm", "RightShoulder", Vector3(-0.12, 0.0, 0.0)],
	["RightLowerArm", "RightUpperArm", Vector3(-0.25, 0.0, 0.0)],
	["RightHand", "RightLowerArm", Vector3(-0.25, 0.0, 0.0)],
]
## Where the XR twin stands (to the avatar's left, the viewer's right).
const TWIN_OFFSET := Vector3(0.55, 0.0, 0.0)

var _simulating: bool = false
var _simulated_time: float = 0.0
var _next_simulated_event: float = 2.0
var _simulated_happy: bool = false

@onready var _receiver: AvatarBridgeReceiver = $AvatarBridgeReceiver
@onready var _blendshape_driver: AvatarBridgeBlendshapeDriver = $BlendshapeDriver
@onready var _skeleton_driver: AvatarBridgeSkeletonDriver = $SkeletonDriver
@onready var _trigger_driver: AvatarBridgeTriggerDriver = $TriggerDriver
@onready var _xr_publisher: AvatarBridgeXRPublisher = $XRPublisher
@onready var _status_label: Label = $HUD/Status


func _ready() -> void:
	var avatar := _build_avatar("Avatar", Vector3.ZERO)
	var skeleton: Skeleton3D = avatar.get_node("Skeleton3D")
	var happy_mark := Label3D.new()
	happy_mark.name = "HappyMark"
	happy_mark.text = "^_^"
	happy_mark.position = Vector3(0.0, 1.85, 0.0)
	happy_mark.pixel_size = 0.002
	happy_mark.visible = false
	avatar.add_child(happy_mark)

	_blendshape_driver.target = avatar
	_skeleton_driver.skeleton = skeleton
	_trigger_driver.animation_tree = _build_animation_tree()
	_xr_publisher.reference_skeleton = skeleton
	_xr_publisher.refresh()
	_build_xr_twin()
	_receiver.connection_changed.connect(_on_receiver_changed)
	_receiver.event_received.connect(_on_event)
	_update_status("")


func _process(delta: float) -> void:
	if _simulating:
		_simulate(delta)


func _unhandled_input(event: InputEvent) -> void:
	var key := event as InputEventKey
	if key == null or not key.pressed or key.echo:
		return
	match key.keycode:
		KEY_T:
			if _receiver.transport == AvatarBridgeReceiver.Transport.VMC:
				_receiver.transport = AvatarBridgeReceiver.Transport.WEBSOCKET
			else:
				_receiver.transport = AvatarBridgeReceiver.Transport.VMC
			_update_status("")
		KEY_C:
			var error := _receiver.send_command("calibrate", "demo")
			_update_status("calibrate: %s" % error_string(error))
		KEY_S:
			_simulating = not _simulating
			_update_status("simulation %s" % ("on" if _simulating else "off"))


func _on_receiver_changed(_status: int) -> void:
	_update_status("")


func _on_event(event: Dictionary) -> void:
	_update_status("event %s" % JSON.stringify(event))


func _update_status(note: String) -> void:
	var transport := "VMC udp:%d" % _receiver.vmc_port
	if _receiver.transport == AvatarBridgeReceiver.Transport.WEBSOCKET:
		transport = "WebSocket %s" % _receiver.websocket_url
	var status_name: String = AvatarBridgeReceiver.Status.keys()[_receiver.status]
	_status_label.text = (
		"Avatar Bridge demo - %s - %s%s\n[T] switch transport  [C] calibrate  [S] simulate\n%s"
		% [transport, status_name, " (simulating)" if _simulating else "", note]
	)


## Feeds the drivers a made-up frame in Unity's frame (as the sidecar would send it), and a
## trigger now and then, without any sidecar.
func _simulate(delta: float) -> void:
	_simulated_time += delta
	var t := _simulated_time
	var frame := AvatarBridgeOscParser.new_frame("simulated")
	var blink := 1.0 if fmod(t, 3.0) < 0.15 else 0.0
	frame["blendshapes"] = {
		"jawOpen": 0.5 + 0.5 * sin(t * 3.0),
		"mouthSmileLeft": 0.5 + 0.5 * sin(t * 0.7),
		"mouthSmileRight": 0.5 + 0.5 * sin(t * 0.7),
		"mouthFunnel": maxf(0.0, sin(t * 1.3)),
		"eyeBlinkLeft": blink,
		"eyeBlinkRight": blink,
	}
	# Unity frame: positive yaw about +Y turns the head to the avatar's right.
	var head := Quaternion(Vector3.UP, 0.5 * sin(t * 0.8)) * Quaternion(Vector3.RIGHT, 0.2 * sin(t))
	frame["bones"] = {
		"Head": {"rotation": head, "position": Vector3.ZERO},
		"LeftEye":
		{"rotation": Quaternion(Vector3.UP, 0.3 * sin(t * 2.0)), "position": Vector3.ZERO},
		"RightEye":
		{"rotation": Quaternion(Vector3.UP, 0.3 * sin(t * 2.0)), "position": Vector3.ZERO},
	}
	if t >= _next_simulated_event:
		_next_simulated_event = t + 4.0
		_simulated_happy = not _simulated_happy
		var events: Array = frame["events"]
		events.append({"type": "action", "name": "wave"})
		events.append(
			{"type": "expression", "name": "happy", "state": "start" if _simulated_happy else "end"}
		)
		for event: Dictionary in events:
			_receiver.event_received.emit(event)
	_receiver.frame_received.emit(frame)


## A Node3D at [param offset] holding a Skeleton3D with the body, face and eye meshes.
func _build_avatar(node_name: String, offset: Vector3) -> Node3D:
	var avatar := Node3D.new()
	avatar.name = node_name
	avatar.position = offset
	add_child(avatar)
	var skeleton := _build_skeleton()
	avatar.add_child(skeleton)
	_attach(skeleton, "Chest", _mesh_instance("Body", _body_mesh()))
	_attach(skeleton, "Head", _mesh_instance("Face", _face_mesh()))
	_attach(skeleton, "LeftEye", _mesh_instance("LeftEyeMesh", _eye_mesh("eyeBlinkLeft")))
	_attach(skeleton, "RightEye", _mesh_instance("RightEyeMesh", _eye_mesh("eyeBlinkRight")))
	return avatar


## Godot 4.3+: a second avatar driven only by XRFaceModifier3D (one per mesh with blend
## shapes) and XRBodyModifier3D (upper body), reading the trackers the publisher fills.
## The classes are created through ClassDB so that this script still loads on 4.2.
func _build_xr_twin() -> void:
	if (
		not ClassDB.class_exists(&"XRFaceModifier3D")
		or not ClassDB.class_exists(&"XRBodyModifier3D")
	):
		return
	var twin := _build_avatar("XRTwin", TWIN_OFFSET)
	var skeleton: Skeleton3D = twin.get_node("Skeleton3D")
	for mesh_path: String in [
		"HeadAttachment/Face", "LeftEyeAttachment/LeftEyeMesh", "RightEyeAttachment/RightEyeMesh"
	]:
		var modifier: Node3D = ClassDB.instantiate(&"XRFaceModifier3D")
		modifier.name = "XRFaceModifier3D"
		twin.add_child(modifier, true)
		modifier.set(&"target", modifier.get_path_to(skeleton.get_node(mesh_path)))
	var body: Node3D = ClassDB.instantiate(&"XRBodyModifier3D")
	body.name = "XRBodyModifier3D"
	body.set(&"body_update", 1)  # BODY_UPDATE_UPPER_BODY
	skeleton.add_child(body)


func _build_skeleton() -> Skeleton3D:
	var skeleton := Skeleton3D.new()
	skeleton.name = "Skeleton3D"
	for bone: Array in BONES:
		var index := skeleton.get_bone_count()
		skeleton.add_bone(bone[0])
		if not (bone[1] as String).is_empty():
			skeleton.set_bone_parent(index, skeleton.find_bone(bone[1]))
		var rest := Transform3D(Basis.IDENTITY, bone[2])
		skeleton.set_bone_rest(index, rest)
		skeleton.set_bone_pose_position(index, rest.origin)
		skeleton.set_bone_pose_rotation(index, Quaternion.IDENTITY)
	return skeleton


func _attach(skeleton: Skeleton3D, bone_name: String, child: Node3D) -> void:
	var attachment := BoneAttachment3D.new()
	attachment.name = bone_name + "Attachment"
	attachment.bone_name = bone_name
	skeleton.add_child(attachment)
	attachment.add_child(child)


func _mesh_instance(node_name: String, mesh: Mesh) -> MeshInstance3D:
	var instance := MeshInstance3D.new()
	instance.name = node_name
	instance.mesh = mesh
	return instance


func _material(color: Color) -> StandardMaterial3D:
	var material := StandardMaterial3D.new()
	material.albedo_color = color
	material.roughness = 0.8
	return material


## Vertex and normal arrays of a UV sphere scaled by [param size] around [param center],
## without tangents so that blend shapes only need vertices and normals.
func _ellipsoid(center: Vector3, size: Vector3) -> Array:
	var sphere := SphereMesh.new()
	sphere.radius = 1.0
	sphere.height = 2.0
	sphere.radial_segments = 32
	sphere.rings = 16
	var arrays := sphere.get_mesh_arrays()
	var vertices: PackedVector3Array = arrays[Mesh.ARRAY_VERTEX]
	var normals: PackedVector3Array = arrays[Mesh.ARRAY_NORMAL]
	for i in vertices.size():
		vertices[i] = center + vertices[i] * size
		normals[i] = (normals[i] / size).normalized()
	arrays[Mesh.ARRAY_VERTEX] = vertices
	arrays[Mesh.ARRAY_NORMAL] = normals
	arrays[Mesh.ARRAY_TANGENT] = null
	return arrays


## A blend shape target for [param base]: the same arrays with [param vertices] (absolute
## positions, as ArrayMesh expects) and the base normals.
func _shape(base: Array, vertices: PackedVector3Array) -> Array:
	var shape := []
	shape.resize(Mesh.ARRAY_MAX)
	shape[Mesh.ARRAY_VERTEX] = vertices
	shape[Mesh.ARRAY_NORMAL] = base[Mesh.ARRAY_NORMAL]
	return shape


func _body_mesh() -> Mesh:
	var capsule := CapsuleMesh.new()
	capsule.radius = 0.16
	capsule.height = 0.5
	capsule.material = _material(Color(0.35, 0.45, 0.7))
	return capsule


## Head and mouth surfaces with the blend shapes jawOpen, mouthSmileLeft, mouthSmileRight and
## mouthO. Offsets are in the Head bone's space (+Y up, +Z the face's front, +X its left).
func _face_mesh() -> ArrayMesh:
	var shape_names := ["jawOpen", "mouthSmileLeft", "mouthSmileRight", "mouthO"]
	var mesh := ArrayMesh.new()
	for shape_name: String in shape_names:
		mesh.add_blend_shape(shape_name)

	var head_center := Vector3(0.0, 0.1, 0.0)
	var head := _ellipsoid(head_center, Vector3(0.1, 0.12, 0.105))
	var head_base: PackedVector3Array = head[Mesh.ARRAY_VERTEX]
	var jaw := head_base.duplicate()
	for i in jaw.size():
		var below := clampf((head_center.y - 0.02 - jaw[i].y) / 0.06, 0.0, 1.0)
		jaw[i] = jaw[i] - Vector3(0.0, 0.035 * below, 0.0)
	# ArrayMesh wants every blend shape on every surface: the head only moves for jawOpen.
	var head_shapes: Array[Array] = [
		_shape(head, jaw),
		_shape(head, head_base),
		_shape(head, head_base),
		_shape(head, head_base),
	]
	mesh.add_surface_from_arrays(Mesh.PRIMITIVE_TRIANGLES, head, head_shapes)
	mesh.surface_set_material(0, _material(SKIN_COLOR))

	var mouth_center := Vector3(0.0, 0.045, 0.098)
	var mouth := _ellipsoid(mouth_center, Vector3(0.035, 0.008, 0.012))
	var mouth_base: PackedVector3Array = mouth[Mesh.ARRAY_VERTEX]
	var open := mouth_base.duplicate()
	var smile_left := mouth_base.duplicate()
	var smile_right := mouth_base.duplicate()
	var round_mouth := mouth_base.duplicate()
	for i in mouth_base.size():
		var offset := mouth_base[i] - mouth_center
		open[i] = mouth_center + Vector3(offset.x * 0.8, offset.y * 3.5 - 0.012, offset.z)
		var side := offset.x / 0.035
		var lift := Vector3(0.0, 0.014 * side * side, 0.0)
		if side > 0.0:
			smile_left[i] = smile_left[i] + lift
		else:
			smile_right[i] = smile_right[i] + lift
		round_mouth[i] = mouth_center + Vector3(offset.x * 0.45, offset.y * 2.5, offset.z * 1.4)
	var mouth_shapes: Array[Array] = [
		_shape(mouth, open),
		_shape(mouth, smile_left),
		_shape(mouth, smile_right),
		_shape(mouth, round_mouth),
	]
	mesh.add_surface_from_arrays(Mesh.PRIMITIVE_TRIANGLES, mouth, mouth_shapes)
	mesh.surface_set_material(1, _material(DARK_COLOR))
	return mesh


## An eyeball and pupil (two surfaces) with one blend shape, [param blink_name], that closes
## the eye by flattening it vertically.
func _eye_mesh(blink_name: String) -> ArrayMesh:
	var mesh := ArrayMesh.new()
	mesh.add_blend_shape(blink_name)
	var parts := [
		[Vector3.ZERO, Vector3(0.02, 0.02, 0.02), EYE_COLOR],
		[Vector3(0.0, 0.0, 0.017), Vector3(0.009, 0.009, 0.006), DARK_COLOR],
	]
	for part: Array in parts:
		var arrays := _ellipsoid(part[0], part[1])
		var open: PackedVector3Array = arrays[Mesh.ARRAY_VERTEX]
		var closed := open.duplicate()
		for i in closed.size():
			closed[i] = Vector3(closed[i].x, closed[i].y * 0.08, closed[i].z)
		var shapes: Array[Array] = [_shape(arrays, closed)]
		mesh.add_surface_from_arrays(Mesh.PRIMITIVE_TRIANGLES, arrays, shapes)
		mesh.surface_set_material(mesh.get_surface_count() - 1, _material(part[2]))
	return mesh


## AnimationPlayer + AnimationTree: a state machine idle -> wave (condition "wave", back at the
## end) and idle <-> happy (conditions "happy" / "not_happy"), the conditions the
## AvatarBridgeTriggerDriver sets from the sidecar's events.
func _build_animation_tree() -> AnimationTree:
	var library := AnimationLibrary.new()
	library.add_animation(
		&"idle", _value_animation("Avatar/HappyMark:visible", [0.0], [false], 1.0)
	)
	library.add_animation(
		&"happy", _value_animation("Avatar/HappyMark:visible", [0.0], [true], 1.0)
	)
	library.add_animation(
		&"wave",
		_value_animation(
			"Avatar:position",
			[0.0, 0.25, 0.5],
			[Vector3.ZERO, Vector3(0.0, 0.08, 0.0), Vector3.ZERO],
			0.5
		)
	)
	var player := AnimationPlayer.new()
	player.name = "AnimationPlayer"
	player.add_animation_library(&"", library)
	add_child(player)

	var machine := AnimationNodeStateMachine.new()
	for state: String in ["idle", "happy", "wave"]:
		var node := AnimationNodeAnimation.new()
		node.animation = StringName(state)
		machine.add_node(StringName(state), node)
	machine.add_transition(&"Start", &"idle", _transition("", false))
	machine.add_transition(&"idle", &"wave", _transition("wave", false))
	machine.add_transition(&"wave", &"idle", _transition("", true))
	machine.add_transition(&"idle", &"happy", _transition("happy", false))
	machine.add_transition(&"happy", &"idle", _transition("not_happy", false))

	var tree := AnimationTree.new()
	tree.name = "AnimationTree"
	tree.tree_root = machine
	add_child(tree)
	tree.anim_player = tree.get_path_to(player)
	tree.active = true
	return tree


func _value_animation(path: String, times: Array, values: Array, length: float) -> Animation:
	var animation := Animation.new()
	animation.length = length
	animation.loop_mode = Animation.LOOP_LINEAR if times.size() == 1 else Animation.LOOP_NONE
	var track := animation.add_track(Animation.TYPE_VALUE)
	animation.track_set_path(track, NodePath(path))
	if typeof(values[0]) == TYPE_BOOL:
		animation.value_track_set_update_mode(track, Animation.UPDATE_DISCRETE)
	for i in times.size():
		animation.track_insert_key(track, times[i], values[i])
	return animation


func _transition(condition: String, at_end: bool) -> AnimationNodeStateMachineTransition:
	var transition := AnimationNodeStateMachineTransition.new()
	transition.advance_mode = AnimationNodeStateMachineTransition.ADVANCE_MODE_AUTO
	transition.xfade_time = 0.1
	if not condition.is_empty():
		transition.advance_condition = StringName(condition)
	if at_end:
		transition.switch_mode = AnimationNodeStateMachineTransition.SWITCH_MODE_AT_END
	return transition
