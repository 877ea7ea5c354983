class_name AvatarBridgeOscParser
extends RefCounted
## Decodes the avatar-bridge wire formats: OSC 1.0 packets, VMC messages and WebSocket JSON.
##
## Pure static functions with no scene dependencies and no side effects: a malformed input
## gives an error value (a Dictionary with [code]ok = false[/code] and a one-line
## [code]error[/code], or [constant VmcResult.BAD_ARGUMENTS]), never a printed error, so that
## a receiver can report each kind of bad packet once instead of once per frame.
## [br][br]
## Every decoded value stays in the wire's frame, Unity's (left-handed, +Y up, +Z forward,
## +X the avatar's right, metres). Convert with [method unity_to_godot_position] and
## [method unity_to_godot_rotation]. The behaviour on the golden vectors of
## [code]tests/vectors/[/code] is listed in this addon's README.
## [br][br]
## A decoded frame is a Dictionary with these keys (see [method new_frame]):
## [code]source[/code] ("vmc" or "websocket"), [code]seq[/code] (int, -1 for VMC),
## [code]time[/code] (float: VMC /VMC/Ext/T uptime, WebSocket capture time in Unix seconds),
## [code]found[/code] (bool), [code]presence[/code] (float 0..1), [code]blendshapes[/code]
## (name -> float), [code]bones[/code] (HumanBodyBones name -> {"rotation": Quaternion,
## "position": Vector3}), [code]root[/code] ({"rotation", "position"}), [code]events[/code]
## (Array of Dictionary, WebSocket only), [code]face[/code] (WebSocket only:
## head_rotation, head_position, eye_left, eye_right, eye_angles), [code]timings_ms[/code]
## (WebSocket only), [code]person_id[/code] (int: the followed person's stable id; 0 in a
## one-person run and for VMC), [code]slot[/code] (int 1..4: the avatar and outputs that person
## drives; 0 for VMC, whose port says whose frames they are), [code]name[/code] (String: their
## enrolled name or "unknown"; null without face identity, for VMC and schema 2),
## [code]similarity[/code] (float: how sure the sidecar is of the name; NAN when it has not said),
## [code]parameters[/code] (WebSocket only: the person's [code][reactions][/code] VRChat
## parameters, name -> bool or float) and [code]vmc_ok[/code] (the /VMC/Ext/OK integers, VMC only).

## What [method apply_vmc_message] did with one OSC message.
enum VmcResult {
	APPLIED,  ## The message's values were stored in the frame.
	FRAME_COMPLETE,  ## /VMC/Ext/Blend/Apply: the frame is complete.
	IGNORED,  ## An address this addon does not use (for example VRChat's or /VMC/Ext/Cam).
	BAD_ARGUMENTS,  ## A known address whose arguments have the wrong count or types.
}

## Newest WebSocket JSON schema version this parser reads ("v"): 3, each person of a frame has
## its slot, name, similarity and box, and the hello may say where each slot's output goes.
const SCHEMA_VERSION := 3
## Oldest schema version still read: 2, frames carry a list of people (without slots or names).
const OLDEST_SCHEMA_VERSION := 2
## Deepest bundle nesting accepted; deeper packets are rejected, not recursed into.
const MAX_BUNDLE_DEPTH := 8
## "#bundle" followed by a NUL, the first 8 bytes of every OSC bundle.
const BUNDLE_HEADER := [35, 98, 117, 110, 100, 108, 101, 0]
## Quaternions shorter than this are rejected instead of normalized.
const MIN_QUATERNION_LENGTH := 1.0e-6


## Parses one UDP datagram: an OSC message or an OSC bundle (nested bundles allowed).
## Returns {"ok": bool, "error": String, "messages": Array[Dictionary]} where each message is
## {"address": String, "tags": String (the type tags without the leading ','), "args": Array}, in
## packet order, bundles flattened. Argument types: 'i' int, 'f' float, 's'/'S' String, 'b'
## PackedByteArray, 'h' int, 'd' float, 't' int (time tag), 'c' String, 'r' Color, 'm'
## PackedByteArray, 'T' true, 'F' false, 'N' null, 'I' null. Any other tag is an error.
static func parse_packet(packet: PackedByteArray) -> Dictionary:
	var messages: Array[Dictionary] = []
	var error := _parse_element(packet, 0, packet.size(), 0, messages)
	if not error.is_empty():
		messages.clear()
	return {"ok": error.is_empty(), "error": error, "messages": messages}


## A new, empty frame Dictionary (see the class description for its keys).
static func new_frame(source: String) -> Dictionary:
	return {
		"source": source,
		"seq": -1,
		"time": 0.0,
		"found": true,
		"presence": 1.0,
		"blendshapes": {},
		"bones": {},
		"root": {"rotation": Quaternion.IDENTITY, "position": Vector3.ZERO},
		"events": [],
		"face": {},
		"timings_ms": {},
		"person_id": 0,
		"slot": 0,
		"name": null,
		"similarity": NAN,
		"parameters": {},
		"vmc_ok": [],
	}


## Stores one VMC message ([param address], [param args] from [method parse_packet]) in
## [param frame] and says what it did. /VMC/Ext/Blend/Apply completes the frame: the caller
## then hands [param frame] on and starts a new one. Values of a frame arrive over several
## datagrams (one frame of 52 blendshapes takes three); they accumulate in [param frame].
static func apply_vmc_message(frame: Dictionary, address: String, args: Array) -> VmcResult:
	match address:
		"/VMC/Ext/Blend/Val":
			if args.size() != 2 or typeof(args[0]) != TYPE_STRING or not _is_number(args[1]):
				return VmcResult.BAD_ARGUMENTS
			var blendshapes: Dictionary = frame["blendshapes"]
			blendshapes[args[0]] = float(args[1])
		"/VMC/Ext/Bone/Pos", "/VMC/Ext/Root/Pos":
			var pose := _vmc_pose(args)
			if pose.is_empty():
				return VmcResult.BAD_ARGUMENTS
			if address == "/VMC/Ext/Root/Pos":
				frame["root"] = pose
			else:
				var bones: Dictionary = frame["bones"]
				bones[args[0]] = pose
		"/VMC/Ext/Blend/Apply":
			return VmcResult.FRAME_COMPLETE
		"/VMC/Ext/OK":
			if args.is_empty() or args.size() > 4 or not _all_of_type(args, TYPE_INT):
				return VmcResult.BAD_ARGUMENTS
			frame["vmc_ok"] = args.duplicate()
			if args.size() == 4:
				frame["found"] = args[3] == 1
				frame["presence"] = 1.0 if args[3] == 1 else 0.0
		"/VMC/Ext/T":
			if args.size() != 1 or not _is_number(args[0]):
				return VmcResult.BAD_ARGUMENTS
			frame["time"] = float(args[0])
		_:
			return VmcResult.IGNORED
	return VmcResult.APPLIED


## Parses and validates one WebSocket text message. Returns {"ok": bool, "error": String,
## "type": "hello" | "frame" | "reply" | "preview", "message": Dictionary}; a "preview" (the
## camera image sent after a subscribe, for dashboards) is recognised but not checked, so that
## it is not reported as an unknown type. Uses a [JSON] instance rather
## than [method JSON.parse_string], which prints an engine error for every malformed text.
## Unknown extra keys are tolerated (forward compatibility); missing or mistyped required
## keys, a schema version "v" other than 2 or 3, or another "type" are errors. Note that Godot's
## JSON gives every number as a float: "seq": 42 arrives as 42.0.
static func decode_json_message(text: String) -> Dictionary:
	var json := JSON.new()
	if json.parse(text) != OK:
		return _json_result(
			"invalid JSON at line %d: %s" % [json.get_error_line(), json.get_error_message()],
			"",
			{}
		)
	if typeof(json.data) != TYPE_DICTIONARY:
		return _json_result("expected a JSON object", "", {})
	var message: Dictionary = json.data
	if typeof(message.get("type")) != TYPE_STRING:
		return _json_result('missing "type"', "", message)
	var kind: String = message["type"]
	var version: Variant = message.get("v")
	if (
		not _is_integer(version)
		or int(version) < OLDEST_SCHEMA_VERSION
		or int(version) > SCHEMA_VERSION
	):
		return _json_result("unsupported schema version %s" % str(version), kind, message)
	var error := ""
	match kind:
		"hello":
			error = _check_hello(message)
		"frame":
			error = _check_frame(message, int(version))
		"reply":
			error = _check_reply(message)
		"preview":
			pass
		_:
			error = 'unknown message type "%s"' % kind
	return _json_result(error, kind, message)


## Turns the followed person of a validated "frame" message into a frame Dictionary (see the
## class description), naming its blendshape values and bones with [param hello]'s channel lists:
## the person named [param name] when that is not empty, wherever they are, else the one in
## [param slot] (see [method find_person]). Returns {"ok": bool, "error": String, "frame":
## Dictionary}; an error when no hello was received yet or when the person's arrays do not match
## the channel lists. A frame without that person is not an error: "ok" is true and "frame" is
## empty (nothing to apply; never someone else's values).
static func frame_from_json(
	message: Dictionary, hello: Dictionary, slot: int = 1, name: String = ""
) -> Dictionary:
	if hello.is_empty():
		return {"ok": false, "error": "frame received before hello", "frame": {}}
	var index := find_person(message, slot, name)
	if index < 0:
		return {"ok": true, "error": "", "frame": {}}
	var person: Dictionary = (message["people"] as Array)[index]
	var channels: Dictionary = hello["channels"]
	var shape_names: Array = channels["blendshapes"]
	var bone_names: Array = channels["bones"]
	var values: Array = person["blendshapes"]
	var bones_in: Dictionary = person["bones"]
	var rotations: Array = bones_in["rot"]
	var positions: Array = bones_in["pos"]
	if values.size() != shape_names.size():
		return {
			"ok": false,
			"error": "%d blendshape values for %d names" % [values.size(), shape_names.size()],
			"frame": {},
		}
	if rotations.size() != bone_names.size() or positions.size() != bone_names.size():
		return {"ok": false, "error": "bone arrays do not match hello's bones", "frame": {}}
	var frame := new_frame("websocket")
	frame["seq"] = int(message["seq"])
	frame["time"] = float(message["t"])
	frame["person_id"] = int(person["id"])
	frame["slot"] = int(person.get("slot", index + 1))
	frame["name"] = person.get("name")
	var similarity: Variant = person.get("similarity")
	frame["similarity"] = float(similarity) if _is_number(similarity) else NAN
	var face_in: Dictionary = person["face"]
	frame["found"] = bool(face_in["found"])
	frame["presence"] = float(face_in["presence"])
	frame["face"] = {
		"head_rotation": _quaternion(face_in["head_rot"]),
		"head_position": _vector3(face_in["head_pos"]),
		"eye_left": _quaternion(face_in["eye_left"]),
		"eye_right": _quaternion(face_in["eye_right"]),
		"eye_angles": PackedFloat32Array(face_in["eye_angles"]),
	}
	var blendshapes: Dictionary = frame["blendshapes"]
	for i in shape_names.size():
		blendshapes[shape_names[i]] = float(values[i])
	var bones: Dictionary = frame["bones"]
	for i in bone_names.size():
		bones[bone_names[i]] = {
			"rotation": _quaternion(rotations[i]),
			"position": _vector3(positions[i]),
		}
	var root_in: Dictionary = person["root"]
	frame["root"] = {
		"rotation": _quaternion(root_in["rot"]),
		"position": _vector3(root_in["pos"]),
	}
	frame["events"] = (person["events"] as Array).duplicate(true)
	frame["parameters"] = (person["parameters"] as Dictionary).duplicate()
	frame["timings_ms"] = (message["timings_ms"] as Dictionary).duplicate()
	return {"ok": true, "error": "", "frame": frame}


## The index in a validated "frame" message's [code]people[/code] of the person followed: the
## first named [param name] when that is not empty (wherever they are; the slot is then
## ignored), else the first in [param slot]; -1 when nobody matches. A schema 2 person has no
## [code]slot[/code] or [code]name[/code]: its slot is its place in the list (1 the first).
static func find_person(message: Dictionary, slot: int, name: String = "") -> int:
	var people: Array = message["people"]
	for i in people.size():
		var person: Dictionary = people[i]
		if name.is_empty():
			if int(person.get("slot", i + 1)) == slot:
				return i
		elif typeof(person.get("name")) == TYPE_STRING and person["name"] == name:
			return i
	return -1


## A control message without arguments ({"type": command, "id": id}), as JSON text; see
## [AvatarBridgeControlCommands] for the commands with arguments.
static func encode_control(command: String, id: Variant = null) -> String:
	return AvatarBridgeControlCommands.encode({"type": command}, id)


## Unity position (left-handed) -> Godot position (right-handed, model facing +Z with its
## left at +X, as [constant Vector3.MODEL_FRONT] since Godot 4.3): (-x, y, z).
static func unity_to_godot_position(position: Vector3) -> Vector3:
	return Vector3(-position.x, position.y, position.z)


## Unity rotation -> Godot rotation: (x, -y, -z, w), the same reflection across the YZ plane
## as [method unity_to_godot_position] applied to a rotation.
static func unity_to_godot_rotation(rotation: Quaternion) -> Quaternion:
	return Quaternion(rotation.x, -rotation.y, -rotation.z, rotation.w)


## True when bytes [param start] .. [param stop] (exclusive; -1 = the end) are well-formed UTF-8
## (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF). Checked before
## decoding because [method PackedByteArray.get_string_from_utf8] prints an engine error on
## malformed input.
static func is_valid_utf8(bytes: PackedByteArray, start: int = 0, stop: int = -1) -> bool:
	var end := bytes.size() if stop < 0 else stop
	var i := start
	while i < end:
		var lead := bytes[i]
		var count := 0
		var low := 0x80
		var high := 0xBF
		if lead < 0x80:
			i += 1
			continue
		if lead >= 0xC2 and lead <= 0xDF:
			count = 1
		elif lead >= 0xE0 and lead <= 0xEF:
			count = 2
			if lead == 0xE0:
				low = 0xA0
			elif lead == 0xED:
				high = 0x9F
		elif lead >= 0xF0 and lead <= 0xF4:
			count = 3
			if lead == 0xF0:
				low = 0x90
			elif lead == 0xF4:
				high = 0x8F
		else:
			return false
		if i + count >= end:
			return false
		for k in range(1, count + 1):
			var next := bytes[i + k]
			if k == 1 and (next < low or next > high):
				return false
			if next < 0x80 or next > 0xBF:
				return false
		i += count + 1
	return true


## Parses the packet or bundle element in [param data] [start, end) into [param out].
static func _parse_element(
	data: PackedByteArray, start: int, end: int, depth: int, out: Array[Dictionary]
) -> String:
	var size := end - start
	if size <= 0 or size % 4 != 0:
		return "size %d is not a positive multiple of 4" % size
	if data[start] == 0x23:
		return _parse_bundle(data, start, end, depth, out)
	if data[start] != 0x2F:
		return "not an OSC message or bundle (first byte 0x%02x)" % data[start]
	return _parse_message(data, start, end, out)


static func _parse_bundle(
	data: PackedByteArray, start: int, end: int, depth: int, out: Array[Dictionary]
) -> String:
	if depth >= MAX_BUNDLE_DEPTH:
		return "bundles nested deeper than %d" % MAX_BUNDLE_DEPTH
	if end - start < 16:
		return "bundle shorter than its 16-byte header"
	for i in BUNDLE_HEADER.size():
		if data[start + i] != BUNDLE_HEADER[i]:
			return "bad bundle header"
	var pos := start + 16
	while pos < end:
		if end - pos < 4:
			return "truncated bundle element size"
		var element_size := _read_int32(data, pos)
		pos += 4
		if element_size <= 0 or element_size % 4 != 0 or element_size > end - pos:
			return "bad bundle element size %d" % element_size
		var error := _parse_element(data, pos, pos + element_size, depth + 1, out)
		if not error.is_empty():
			return error
		pos += element_size
	return ""


static func _parse_message(
	data: PackedByteArray, start: int, end: int, out: Array[Dictionary]
) -> String:
	var nul := _find_nul(data, start, end)
	if nul < 0 or not is_valid_utf8(data, start, nul):
		return "unterminated or non-UTF-8 address"
	var address := data.slice(start, nul).get_string_from_utf8()
	var pos := _after_padding(start, nul)
	var tags := ""
	var args: Array = []
	if pos < end:
		if data[pos] != 0x2C:
			return "%s: type tag string does not start with ','" % address
		nul = _find_nul(data, pos, end)
		if nul < 0 or not is_valid_utf8(data, pos, nul):
			return "%s: unterminated type tag string" % address
		tags = data.slice(pos + 1, nul).get_string_from_utf8()
		pos = _after_padding(pos, nul)
		for tag in tags:
			pos = _read_argument(data, pos, end, tag, args)
			if pos < 0:
				return "%s: bad or truncated '%s' argument" % [address, tag]
	if pos != end:
		return "%s: %d bytes after the arguments" % [address, end - pos]
	out.append({"address": address, "tags": tags, "args": args})
	return ""


## Reads one argument of type [param tag] at [param pos] into [param args]; returns the
## position after it, or -1 when the tag is unsupported or the data is truncated/malformed.
static func _read_argument(
	data: PackedByteArray, pos: int, end: int, tag: String, args: Array
) -> int:
	var width := 0
	match tag:
		"i", "f", "c", "r", "m":
			width = 4
		"h", "d", "t":
			width = 8
		"T":
			args.append(true)
			return pos
		"F":
			args.append(false)
			return pos
		"N", "I":
			args.append(null)
			return pos
		"s", "S":
			var nul := _find_nul(data, pos, end)
			if nul < 0 or not is_valid_utf8(data, pos, nul):
				return -1
			args.append(data.slice(pos, nul).get_string_from_utf8())
			var after := _after_padding(pos, nul)
			return after if after <= end else -1
		"b":
			if end - pos < 4:
				return -1
			var length := _read_int32(data, pos)
			var padded := (length + 3) & ~3
			if length < 0 or padded > end - pos - 4:
				return -1
			args.append(data.slice(pos + 4, pos + 4 + length))
			return pos + 4 + padded
		_:
			return -1
	if end - pos < width:
		return -1
	match tag:
		"i":
			args.append(_read_int32(data, pos))
		"f":
			args.append(_read_float32(data, pos))
		"c":
			args.append(String.chr(_read_int32(data, pos)))
		"r":
			args.append(Color8(data[pos], data[pos + 1], data[pos + 2], data[pos + 3]))
		"m":
			args.append(data.slice(pos, pos + 4))
		"d":
			args.append(_reversed(data, pos, 8).decode_double(0))
		_:
			args.append(_reversed(data, pos, 8).decode_s64(0))
	return pos + width


## Index of the first NUL byte in [start, end), or -1.
static func _find_nul(data: PackedByteArray, start: int, end: int) -> int:
	var nul := data.find(0, start)
	return nul if nul >= 0 and nul < end else -1


## Position after an OSC string that starts at [param start] and has its NUL at [param nul]:
## the string and its NUL, padded to a multiple of 4 bytes.
static func _after_padding(start: int, nul: int) -> int:
	return start + ((nul - start + 4) & ~3)


## Big-endian signed 32-bit integer.
static func _read_int32(data: PackedByteArray, pos: int) -> int:
	var value := (data[pos] << 24) | (data[pos + 1] << 16) | (data[pos + 2] << 8) | data[pos + 3]
	return value - 0x100000000 if value >= 0x80000000 else value


## Big-endian IEEE 754 single: the 4 bytes reversed, then decoded by
## [method PackedByteArray.decode_float], which reads little-endian on every platform.
static func _read_float32(data: PackedByteArray, pos: int) -> float:
	return _reversed(data, pos, 4).decode_float(0)


static func _reversed(data: PackedByteArray, pos: int, count: int) -> PackedByteArray:
	var out := PackedByteArray()
	out.resize(count)
	for i in count:
		out[i] = data[pos + count - 1 - i]
	return out


## {"rotation", "position"} from VMC's [s name, f px, py, pz, qx, qy, qz, qw, ...], or {}.
## Extra trailing values (VMC 2.1 adds scale and offset to Root/Pos) are ignored.
static func _vmc_pose(args: Array) -> Dictionary:
	if args.size() < 8 or typeof(args[0]) != TYPE_STRING:
		return {}
	for i in range(1, 8):
		if not _is_number(args[i]):
			return {}
	var rotation := Quaternion(float(args[4]), float(args[5]), float(args[6]), float(args[7]))
	if rotation.length() < MIN_QUATERNION_LENGTH:
		return {}
	return {
		"rotation": rotation.normalized(),
		"position": Vector3(float(args[1]), float(args[2]), float(args[3])),
	}


static func _json_result(error: String, kind: String, message: Dictionary) -> Dictionary:
	return {"ok": error.is_empty(), "error": error, "type": kind, "message": message}


static func _check_hello(message: Dictionary) -> String:
	var channels: Variant = message.get("channels")
	if typeof(channels) != TYPE_DICTIONARY:
		return 'hello: "channels" is not an object'
	var channel_dict: Dictionary = channels
	if not _is_string_array(channel_dict.get("blendshapes")):
		return 'hello: "channels.blendshapes" is not an array of strings'
	if not _is_string_array(channel_dict.get("bones")):
		return 'hello: "channels.bones" is not an array of strings'
	if typeof(message.get("mirror")) != TYPE_BOOL:
		return 'hello: "mirror" is not a boolean'
	if not _is_string_array(message.get("commands")):
		return 'hello: "commands" is not an array of strings'
	if typeof(message.get("version")) != TYPE_STRING:
		return 'hello: "version" is not a string'
	if message.has("people"):
		return _check_hello_people(message["people"])
	return ""


## The hello's optional "people": {"max": 1..4, "routes": [{"slot"|"name", "outputs"}]}.
static func _check_hello_people(people: Variant) -> String:
	if typeof(people) != TYPE_DICTIONARY:
		return 'hello: "people" is not an object'
	var people_dict: Dictionary = people
	var most: Variant = people_dict.get("max")
	if not _is_integer(most) or int(most) < 1:
		return 'hello: "people.max" is not a positive integer'
	var routes: Variant = people_dict.get("routes")
	if typeof(routes) != TYPE_ARRAY:
		return 'hello: "people.routes" is not an array'
	for route: Variant in routes:
		if typeof(route) != TYPE_DICTIONARY:
			return 'hello: every "people.routes" entry must be an object'
		var route_dict: Dictionary = route
		if not _is_string_array(route_dict.get("outputs")):
			return 'hello: every route needs "outputs" (an array of strings)'
		if route_dict.has("slot") and not _is_positive_integer(route_dict["slot"]):
			return 'hello: a route "slot" is not an integer from 1'
		if route_dict.has("name") and typeof(route_dict["name"]) != TYPE_STRING:
			return 'hello: a route "name" is not a string'
	return ""


static func _check_frame(message: Dictionary, version: int) -> String:
	for key: String in ["seq", "t", "source_t"]:
		if not _is_number(message.get(key)):
			return 'frame: "%s" is not a number' % key
	var people: Variant = message.get("people")
	if typeof(people) != TYPE_ARRAY:
		return 'frame: "people" is not an array'
	for person: Variant in people:
		if typeof(person) != TYPE_DICTIONARY:
			return "frame: every person must be an object"
		var person_error := _check_person(person, version)
		if not person_error.is_empty():
			return person_error
	if typeof(message.get("timings_ms")) != TYPE_DICTIONARY:
		return 'frame: "timings_ms" is not an object'
	return ""


static func _check_person(person: Dictionary, version: int) -> String:
	var id: Variant = person.get("id")
	if not _is_integer(id) or float(id) < 0.0:
		return 'frame: every person needs an "id" (integer, 0 or more)'
	if version >= 3:
		var identity_error := _check_identity(person)
		if not identity_error.is_empty():
			return identity_error
	var face: Variant = person.get("face")
	if typeof(face) != TYPE_DICTIONARY:
		return 'frame: "face" is not an object'
	var face_error := _check_face(face)
	if not face_error.is_empty():
		return face_error
	if not _is_number_array(person.get("blendshapes"), -1):
		return 'frame: "blendshapes" is not an array of numbers'
	var bones: Variant = person.get("bones")
	if typeof(bones) != TYPE_DICTIONARY:
		return 'frame: "bones" is not an object'
	var bone_dict: Dictionary = bones
	if not _is_array_of(bone_dict.get("rot"), 4) or not _is_array_of(bone_dict.get("pos"), 3):
		return 'frame: "bones.rot"/"bones.pos" are not arrays of quaternions/vectors'
	var root: Variant = person.get("root")
	if typeof(root) != TYPE_DICTIONARY:
		return 'frame: "root" is not an object'
	var root_dict: Dictionary = root
	if not _is_quaternion(root_dict.get("rot")) or not _is_number_array(root_dict.get("pos"), 3):
		return 'frame: "root" needs "pos" [x, y, z] and "rot" [x, y, z, w]'
	var events: Variant = person.get("events")
	if typeof(events) != TYPE_ARRAY:
		return 'frame: "events" is not an array'
	for event: Variant in events:
		if typeof(event) != TYPE_DICTIONARY:
			return "frame: every event must be an object"
		var event_dict: Dictionary = event
		if typeof(event_dict.get("type")) != TYPE_STRING:
			return 'frame: every event needs a string "type"'
	var parameters: Variant = person.get("parameters")
	if typeof(parameters) != TYPE_DICTIONARY:
		return 'frame: "parameters" is not an object'
	for value: Variant in (parameters as Dictionary).values():
		if typeof(value) != TYPE_BOOL and not _is_number(value):
			return "frame: every parameter must be true, false or a number"
	return ""


## Schema 3's "slot", "name", "similarity" and "box" of one person.
static func _check_identity(person: Dictionary) -> String:
	if not _is_positive_integer(person.get("slot")):
		return 'frame: every person needs a "slot" (integer, 1 or more)'
	if typeof(person.get("name")) not in [TYPE_STRING, TYPE_NIL] or not person.has("name"):
		return 'frame: every person needs a "name" (string or null)'
	var similarity: Variant = person.get("similarity")
	var similarity_ok := typeof(similarity) == TYPE_NIL or _is_number(similarity)
	if not person.has("similarity") or not similarity_ok:
		return 'frame: every person needs a "similarity" (number or null)'
	var box: Variant = person.get("box")
	var box_ok := typeof(box) == TYPE_NIL or _is_number_array(box, 4)
	if not person.has("box") or not box_ok:
		return 'frame: every person needs a "box" ([x0, y0, x1, y1] or null)'
	return ""


static func _check_face(face: Dictionary) -> String:
	if typeof(face.get("found")) != TYPE_BOOL or not _is_number(face.get("presence")):
		return 'frame: "face" needs "found" (boolean) and "presence" (number)'
	for key: String in ["head_rot", "eye_left", "eye_right"]:
		if not _is_quaternion(face.get(key)):
			return 'frame: "face.%s" is not a quaternion [x, y, z, w]' % key
	if not _is_number_array(face.get("head_pos"), 3):
		return 'frame: "face.head_pos" is not [x, y, z]'
	if not _is_number_array(face.get("eye_angles"), 4):
		return 'frame: "face.eye_angles" is not 4 numbers'
	return ""


static func _check_reply(message: Dictionary) -> String:
	var id_type := typeof(message.get("id"))
	if id_type not in [TYPE_NIL, TYPE_STRING, TYPE_INT, TYPE_FLOAT]:
		return 'reply: "id" is not a string, an integer or null'
	if typeof(message.get("command")) not in [TYPE_NIL, TYPE_STRING]:
		return 'reply: "command" is not a string or null'
	if typeof(message.get("ok")) != TYPE_BOOL or typeof(message.get("message")) != TYPE_STRING:
		return 'reply: needs "ok" (boolean) and "message" (string)'
	return ""


static func _is_number(value: Variant) -> bool:
	var kind := typeof(value)
	return kind == TYPE_INT or kind == TYPE_FLOAT


## A number with no fractional part (Godot's JSON gives every number as a float).
static func _is_integer(value: Variant) -> bool:
	return _is_number(value) and float(value) == floorf(float(value))


static func _is_positive_integer(value: Variant) -> bool:
	return _is_integer(value) and float(value) >= 1.0


static func _all_of_type(values: Array, kind: int) -> bool:
	for value: Variant in values:
		if typeof(value) != kind:
			return false
	return true


## True for an Array of numbers, of [param length] items unless it is -1.
static func _is_number_array(value: Variant, length: int) -> bool:
	if typeof(value) != TYPE_ARRAY:
		return false
	var items: Array = value
	if length >= 0 and items.size() != length:
		return false
	for item: Variant in items:
		if not _is_number(item):
			return false
	return true


static func _is_string_array(value: Variant) -> bool:
	return typeof(value) == TYPE_ARRAY and _all_of_type(value, TYPE_STRING)


## True for an Array whose every item is an Array of [param length] numbers.
static func _is_array_of(value: Variant, length: int) -> bool:
	if typeof(value) != TYPE_ARRAY:
		return false
	for item: Variant in value:
		if not _is_number_array(item, length):
			return false
	if length == 4:
		for item: Variant in value:
			if not _is_quaternion(item):
				return false
	return true


## Four numbers that are not all (nearly) zero, so they can be normalized.
static func _is_quaternion(value: Variant) -> bool:
	if not _is_number_array(value, 4):
		return false
	var items: Array = value
	var length_squared := 0.0
	for item: Variant in items:
		length_squared += float(item) * float(item)
	return length_squared >= MIN_QUATERNION_LENGTH * MIN_QUATERNION_LENGTH


## A normalized Quaternion from a validated [x, y, z, w] array (the JSON values are rounded,
## to 4 or 5 decimals, so they are not exactly unit length).
static func _quaternion(values: Array) -> Quaternion:
	var rotation := Quaternion(
		float(values[0]), float(values[1]), float(values[2]), float(values[3])
	)
	return rotation.normalized()


static func _vector3(values: Array) -> Vector3:
	return Vector3(float(values[0]), float(values[1]), float(values[2]))
