class_name AvatarBridgeNames
extends RefCounted
## Name tables shared by the Avatar Bridge drivers.
##
## ARKit blendshape names, VRM 0.x / 1.0 expression aliases, Unity [code]HumanBodyBones[/code]
## names and their Godot [SkeletonProfileHumanoid] equivalents, and the Godot 4.3+
## [code]XRFaceTracker[/code] / [code]XRBodyTracker[/code] entries they feed. Pure data and
## static functions: no scene dependencies. Tracker entries are kept as constant NAMES
## (resolved with [method ClassDB.class_get_integer_constant] at run time) so that this
## script still compiles on Godot 4.2, which has neither tracker class.

## The 52 ARKit blendshape names in Apple's order (the sidecar's default "arkit" preset).
const ARKIT_NAMES := [
	"eyeBlinkLeft",
	"eyeLookDownLeft",
	"eyeLookInLeft",
	"eyeLookOutLeft",
	"eyeLookUpLeft",
	"eyeSquintLeft",
	"eyeWideLeft",
	"eyeBlinkRight",
	"eyeLookDownRight",
	"eyeLookInRight",
	"eyeLookOutRight",
	"eyeLookUpRight",
	"eyeSquintRight",
	"eyeWideRight",
	"jawForward",
	"jawLeft",
	"jawRight",
	"jawOpen",
	"mouthClose",
	"mouthFunnel",
	"mouthPucker",
	"mouthLeft",
	"mouthRight",
	"mouthSmileLeft",
	"mouthSmileRight",
	"mouthFrownLeft",
	"mouthFrownRight",
	"mouthDimpleLeft",
	"mouthDimpleRight",
	"mouthStretchLeft",
	"mouthStretchRight",
	"mouthRollLower",
	"mouthRollUpper",
	"mouthShrugLower",
	"mouthShrugUpper",
	"mouthPressLeft",
	"mouthPressRight",
	"mouthLowerDownLeft",
	"mouthLowerDownRight",
	"mouthUpperUpLeft",
	"mouthUpperUpRight",
	"browDownLeft",
	"browDownRight",
	"browInnerUp",
	"browOuterUpLeft",
	"browOuterUpRight",
	"cheekPuff",
	"cheekSquintLeft",
	"cheekSquintRight",
	"noseSneerLeft",
	"noseSneerRight",
	"tongueOut",
]

## VRM 0.x preset expressions (the sidecar's "vrm0" preset).
const VRM0_NAMES := [
	"A",
	"I",
	"U",
	"E",
	"O",
	"Blink",
	"Blink_L",
	"Blink_R",
	"Joy",
	"Angry",
	"Sorrow",
	"Fun",
	"Surprised",
]

## VRM 1.0 preset expressions (the sidecar's "vrm1" preset), in the same order as VRM0_NAMES.
const VRM1_NAMES := [
	"aa",
	"ih",
	"ou",
	"ee",
	"oh",
	"blink",
	"blinkLeft",
	"blinkRight",
	"happy",
	"angry",
	"sad",
	"relaxed",
	"surprised",
]

## Groups of normalized blend shape names (see [method normalize_shape_name]) that mean the same
## shape: VRM 0.x, VRM 1.0, VRChat visemes and VRoid's "Fcl_" mesh shapes. Left/Right variants
## such as "Blink_L" and "blinkLeft" already normalize to the same key.
const ALIAS_GROUPS := [
	["a", "aa", "vaa", "fclmtha"],
	["i", "ih", "vih", "fclmthi"],
	["u", "ou", "vou", "fclmthu"],
	["e", "ee", "ve", "fclmthe"],
	["o", "oh", "voh", "fclmtho"],
	["blink", "fcleyeclose"],
	["blinkleft", "fcleyecloseleft"],
	["blinkright", "fcleyecloseright"],
	["joy", "happy", "fclalljoy"],
	["angry", "fclallangry"],
	["sorrow", "sad", "fclallsorrow"],
	["fun", "relaxed", "fclallfun"],
	["surprised", "fclallsurprised"],
]

## Prefixes that exporters put in front of blend shape names; stripped before matching.
const SHAPE_PREFIXES := ["blendshape", "arkit", "vrc"]

## Unity HumanBodyBones name -> Godot SkeletonProfileHumanoid bone name. They are the same
## except the thumb, which Unity (and VRM 0.x) calls Proximal/Intermediate/Distal and Godot
## (like VRM 1.0) Metacarpal/Proximal/Distal.
const UNITY_TO_GODOT_BONES := {
	"Hips": "Hips",
	"Spine": "Spine",
	"Chest": "Chest",
	"UpperChest": "UpperChest",
	"Neck": "Neck",
	"Head": "Head",
	"LeftEye": "LeftEye",
	"RightEye": "RightEye",
	"Jaw": "Jaw",
	"LeftShoulder": "LeftShoulder",
	"LeftUpperArm": "LeftUpperArm",
	"LeftLowerArm": "LeftLowerArm",
	"LeftHand": "LeftHand",
	"RightShoulder": "RightShoulder",
	"RightUpperArm": "RightUpperArm",
	"RightLowerArm": "RightLowerArm",
	"RightHand": "RightHand",
	"LeftUpperLeg": "LeftUpperLeg",
	"LeftLowerLeg": "LeftLowerLeg",
	"LeftFoot": "LeftFoot",
	"LeftToes": "LeftToes",
	"RightUpperLeg": "RightUpperLeg",
	"RightLowerLeg": "RightLowerLeg",
	"RightFoot": "RightFoot",
	"RightToes": "RightToes",
	"LeftThumbProximal": "LeftThumbMetacarpal",
	"LeftThumbIntermediate": "LeftThumbProximal",
	"LeftThumbDistal": "LeftThumbDistal",
	"LeftIndexProximal": "LeftIndexProximal",
	"LeftIndexIntermediate": "LeftIndexIntermediate",
	"LeftIndexDistal": "LeftIndexDistal",
	"LeftMiddleProximal": "LeftMiddleProximal",
	"LeftMiddleIntermediate": "LeftMiddleIntermediate",
	"LeftMiddleDistal": "LeftMiddleDistal",
	"LeftRingProximal": "LeftRingProximal",
	"LeftRingIntermediate": "LeftRingIntermediate",
	"LeftRingDistal": "LeftRingDistal",
	"LeftLittleProximal": "LeftLittleProximal",
	"LeftLittleIntermediate": "LeftLittleIntermediate",
	"LeftLittleDistal": "LeftLittleDistal",
	"RightThumbProximal": "RightThumbMetacarpal",
	"RightThumbIntermediate": "RightThumbProximal",
	"RightThumbDistal": "RightThumbDistal",
	"RightIndexProximal": "RightIndexProximal",
	"RightIndexIntermediate": "RightIndexIntermediate",
	"RightIndexDistal": "RightIndexDistal",
	"RightMiddleProximal": "RightMiddleProximal",
	"RightMiddleIntermediate": "RightMiddleIntermediate",
	"RightMiddleDistal": "RightMiddleDistal",
	"RightRingProximal": "RightRingProximal",
	"RightRingIntermediate": "RightRingIntermediate",
	"RightRingDistal": "RightRingDistal",
	"RightLittleProximal": "RightLittleProximal",
	"RightLittleIntermediate": "RightLittleIntermediate",
	"RightLittleDistal": "RightLittleDistal",
}

## Godot humanoid bone name -> XRBodyTracker joint constant (the table XRBodyModifier3D uses).
const BODY_JOINTS := {
	"Root": "JOINT_ROOT",
	"Hips": "JOINT_HIPS",
	"Spine": "JOINT_SPINE",
	"Chest": "JOINT_CHEST",
	"UpperChest": "JOINT_UPPER_CHEST",
	"Neck": "JOINT_NECK",
	"Head": "JOINT_HEAD",
	"LeftShoulder": "JOINT_LEFT_SHOULDER",
	"LeftUpperArm": "JOINT_LEFT_UPPER_ARM",
	"LeftLowerArm": "JOINT_LEFT_LOWER_ARM",
	"RightShoulder": "JOINT_RIGHT_SHOULDER",
	"RightUpperArm": "JOINT_RIGHT_UPPER_ARM",
	"RightLowerArm": "JOINT_RIGHT_LOWER_ARM",
	"LeftUpperLeg": "JOINT_LEFT_UPPER_LEG",
	"LeftLowerLeg": "JOINT_LEFT_LOWER_LEG",
	"LeftFoot": "JOINT_LEFT_FOOT",
	"LeftToes": "JOINT_LEFT_TOES",
	"RightUpperLeg": "JOINT_RIGHT_UPPER_LEG",
	"RightLowerLeg": "JOINT_RIGHT_LOWER_LEG",
	"RightFoot": "JOINT_RIGHT_FOOT",
	"RightToes": "JOINT_RIGHT_TOES",
	"LeftHand": "JOINT_LEFT_HAND",
	"LeftThumbMetacarpal": "JOINT_LEFT_THUMB_METACARPAL",
	"LeftThumbProximal": "JOINT_LEFT_THUMB_PHALANX_PROXIMAL",
	"LeftThumbDistal": "JOINT_LEFT_THUMB_PHALANX_DISTAL",
	"LeftIndexProximal": "JOINT_LEFT_INDEX_FINGER_PHALANX_PROXIMAL",
	"LeftIndexIntermediate": "JOINT_LEFT_INDEX_FINGER_PHALANX_INTERMEDIATE",
	"LeftIndexDistal": "JOINT_LEFT_INDEX_FINGER_PHALANX_DISTAL",
	"LeftMiddleProximal": "JOINT_LEFT_MIDDLE_FINGER_PHALANX_PROXIMAL",
	"LeftMiddleIntermediate": "JOINT_LEFT_MIDDLE_FINGER_PHALANX_INTERMEDIATE",
	"LeftMiddleDistal": "JOINT_LEFT_MIDDLE_FINGER_PHALANX_DISTAL",
	"LeftRingProximal": "JOINT_LEFT_RING_FINGER_PHALANX_PROXIMAL",
	"LeftRingIntermediate": "JOINT_LEFT_RING_FINGER_PHALANX_INTERMEDIATE",
	"LeftRingDistal": "JOINT_LEFT_RING_FINGER_PHALANX_DISTAL",
	"LeftLittleProximal": "JOINT_LEFT_PINKY_FINGER_PHALANX_PROXIMAL",
	"LeftLittleIntermediate": "JOINT_LEFT_PINKY_FINGER_PHALANX_INTERMEDIATE",
	"LeftLittleDistal": "JOINT_LEFT_PINKY_FINGER_PHALANX_DISTAL",
	"RightHand": "JOINT_RIGHT_HAND",
	"RightThumbMetacarpal": "JOINT_RIGHT_THUMB_METACARPAL",
	"RightThumbProximal": "JOINT_RIGHT_THUMB_PHALANX_PROXIMAL",
	"RightThumbDistal": "JOINT_RIGHT_THUMB_PHALANX_DISTAL",
	"RightIndexProximal": "JOINT_RIGHT_INDEX_FINGER_PHALANX_PROXIMAL",
	"RightIndexIntermediate": "JOINT_RIGHT_INDEX_FINGER_PHALANX_INTERMEDIATE",
	"RightIndexDistal": "JOINT_RIGHT_INDEX_FINGER_PHALANX_DISTAL",
	"RightMiddleProximal": "JOINT_RIGHT_MIDDLE_FINGER_PHALANX_PROXIMAL",
	"RightMiddleIntermediate": "JOINT_RIGHT_MIDDLE_FINGER_PHALANX_INTERMEDIATE",
	"RightMiddleDistal": "JOINT_RIGHT_MIDDLE_FINGER_PHALANX_DISTAL",
	"RightRingProximal": "JOINT_RIGHT_RING_FINGER_PHALANX_PROXIMAL",
	"RightRingIntermediate": "JOINT_RIGHT_RING_FINGER_PHALANX_INTERMEDIATE",
	"RightRingDistal": "JOINT_RIGHT_RING_FINGER_PHALANX_DISTAL",
	"RightLittleProximal": "JOINT_RIGHT_PINKY_FINGER_PHALANX_PROXIMAL",
	"RightLittleIntermediate": "JOINT_RIGHT_PINKY_FINGER_PHALANX_INTERMEDIATE",
	"RightLittleDistal": "JOINT_RIGHT_PINKY_FINGER_PHALANX_DISTAL",
}

## ARKit name -> XRFaceTracker entries (Unified Expressions) it sets. The first entry of each
## list is the one XRFaceModifier3D maps a mesh shape of that ARKit name to, so an ARKit-named
## mesh receives exactly the wire value; the others are the Unified Expressions base shapes
## that make it up, so Unified-named meshes are driven too.
const ARKIT_TO_FACE_TRACKER := {
	"eyeBlinkLeft": ["FT_EYE_CLOSED_LEFT"],
	"eyeLookDownLeft": ["FT_EYE_LOOK_DOWN_LEFT"],
	"eyeLookInLeft": ["FT_EYE_LOOK_IN_LEFT"],
	"eyeLookOutLeft": ["FT_EYE_LOOK_OUT_LEFT"],
	"eyeLookUpLeft": ["FT_EYE_LOOK_UP_LEFT"],
	"eyeSquintLeft": ["FT_EYE_SQUINT_LEFT"],
	"eyeWideLeft": ["FT_EYE_WIDE_LEFT"],
	"eyeBlinkRight": ["FT_EYE_CLOSED_RIGHT"],
	"eyeLookDownRight": ["FT_EYE_LOOK_DOWN_RIGHT"],
	"eyeLookInRight": ["FT_EYE_LOOK_IN_RIGHT"],
	"eyeLookOutRight": ["FT_EYE_LOOK_OUT_RIGHT"],
	"eyeLookUpRight": ["FT_EYE_LOOK_UP_RIGHT"],
	"eyeSquintRight": ["FT_EYE_SQUINT_RIGHT"],
	"eyeWideRight": ["FT_EYE_WIDE_RIGHT"],
	"jawForward": ["FT_JAW_FORWARD"],
	"jawLeft": ["FT_JAW_LEFT"],
	"jawRight": ["FT_JAW_RIGHT"],
	"jawOpen": ["FT_JAW_OPEN"],
	"mouthClose": ["FT_MOUTH_CLOSED"],
	"mouthFunnel":
	[
		"FT_LIP_FUNNEL",
		"FT_LIP_FUNNEL_UPPER",
		"FT_LIP_FUNNEL_LOWER",
		"FT_LIP_FUNNEL_UPPER_RIGHT",
		"FT_LIP_FUNNEL_UPPER_LEFT",
		"FT_LIP_FUNNEL_LOWER_RIGHT",
		"FT_LIP_FUNNEL_LOWER_LEFT",
	],
	"mouthPucker":
	[
		"FT_LIP_PUCKER",
		"FT_LIP_PUCKER_UPPER",
		"FT_LIP_PUCKER_LOWER",
		"FT_LIP_PUCKER_UPPER_RIGHT",
		"FT_LIP_PUCKER_UPPER_LEFT",
		"FT_LIP_PUCKER_LOWER_RIGHT",
		"FT_LIP_PUCKER_LOWER_LEFT",
	],
	"mouthLeft": ["FT_MOUTH_LEFT", "FT_MOUTH_UPPER_LEFT", "FT_MOUTH_LOWER_LEFT"],
	"mouthRight": ["FT_MOUTH_RIGHT", "FT_MOUTH_UPPER_RIGHT", "FT_MOUTH_LOWER_RIGHT"],
	"mouthSmileLeft":
	[
		"FT_MOUTH_SMILE_LEFT",
		"FT_MOUTH_CORNER_PULL_LEFT",
		"FT_MOUTH_CORNER_SLANT_LEFT",
	],
	"mouthSmileRight":
	[
		"FT_MOUTH_SMILE_RIGHT",
		"FT_MOUTH_CORNER_PULL_RIGHT",
		"FT_MOUTH_CORNER_SLANT_RIGHT",
	],
	"mouthFrownLeft": ["FT_MOUTH_FROWN_LEFT"],
	"mouthFrownRight": ["FT_MOUTH_FROWN_RIGHT"],
	"mouthDimpleLeft": ["FT_MOUTH_DIMPLE_LEFT"],
	"mouthDimpleRight": ["FT_MOUTH_DIMPLE_RIGHT"],
	"mouthStretchLeft": ["FT_MOUTH_STRETCH_LEFT"],
	"mouthStretchRight": ["FT_MOUTH_STRETCH_RIGHT"],
	"mouthRollLower": ["FT_LIP_SUCK_LOWER", "FT_LIP_SUCK_LOWER_RIGHT", "FT_LIP_SUCK_LOWER_LEFT"],
	"mouthRollUpper": ["FT_LIP_SUCK_UPPER", "FT_LIP_SUCK_UPPER_RIGHT", "FT_LIP_SUCK_UPPER_LEFT"],
	"mouthShrugLower": ["FT_MOUTH_RAISER_LOWER"],
	"mouthShrugUpper": ["FT_MOUTH_RAISER_UPPER"],
	"mouthPressLeft": ["FT_MOUTH_PRESS_LEFT"],
	"mouthPressRight": ["FT_MOUTH_PRESS_RIGHT"],
	"mouthLowerDownLeft": ["FT_MOUTH_LOWER_DOWN_LEFT"],
	"mouthLowerDownRight": ["FT_MOUTH_LOWER_DOWN_RIGHT"],
	"mouthUpperUpLeft": ["FT_MOUTH_UPPER_UP_LEFT"],
	"mouthUpperUpRight": ["FT_MOUTH_UPPER_UP_RIGHT"],
	"browDownLeft": ["FT_BROW_DOWN_LEFT", "FT_BROW_LOWERER_LEFT", "FT_BROW_PINCH_LEFT"],
	"browDownRight": ["FT_BROW_DOWN_RIGHT", "FT_BROW_LOWERER_RIGHT", "FT_BROW_PINCH_RIGHT"],
	"browInnerUp": ["FT_BROW_INNER_UP_RIGHT", "FT_BROW_INNER_UP_LEFT"],
	"browOuterUpLeft": ["FT_BROW_OUTER_UP_LEFT"],
	"browOuterUpRight": ["FT_BROW_OUTER_UP_RIGHT"],
	"cheekPuff": ["FT_CHEEK_PUFF", "FT_CHEEK_PUFF_RIGHT", "FT_CHEEK_PUFF_LEFT"],
	"cheekSquintLeft": ["FT_CHEEK_SQUINT_LEFT"],
	"cheekSquintRight": ["FT_CHEEK_SQUINT_RIGHT"],
	"noseSneerLeft": ["FT_NOSE_SNEER_LEFT"],
	"noseSneerRight": ["FT_NOSE_SNEER_RIGHT"],
	"tongueOut": ["FT_TONGUE_OUT"],
}

## Unified Expressions "blended" shapes and the base shapes they combine (the table of
## XRFaceModifier3D). Entries that no ARKit name sets directly are filled with the mean of
## their components, so a mesh with e.g. an "EyeClosed" shape still moves.
const FACE_TRACKER_BLENDS := [
	["FT_EYE_CLOSED", ["FT_EYE_CLOSED_RIGHT", "FT_EYE_CLOSED_LEFT"]],
	["FT_EYE_WIDE", ["FT_EYE_WIDE_RIGHT", "FT_EYE_WIDE_LEFT"]],
	["FT_EYE_SQUINT", ["FT_EYE_SQUINT_RIGHT", "FT_EYE_SQUINT_LEFT"]],
	["FT_BROW_DOWN", ["FT_BROW_DOWN_RIGHT", "FT_BROW_DOWN_LEFT"]],
	["FT_BROW_UP_RIGHT", ["FT_BROW_INNER_UP_RIGHT", "FT_BROW_OUTER_UP_RIGHT"]],
	["FT_BROW_UP_LEFT", ["FT_BROW_INNER_UP_LEFT", "FT_BROW_OUTER_UP_LEFT"]],
	[
		"FT_BROW_UP",
		[
			"FT_BROW_INNER_UP_RIGHT",
			"FT_BROW_OUTER_UP_RIGHT",
			"FT_BROW_INNER_UP_LEFT",
			"FT_BROW_OUTER_UP_LEFT",
		],
	],
	["FT_NOSE_SNEER", ["FT_NOSE_SNEER_RIGHT", "FT_NOSE_SNEER_LEFT"]],
	["FT_CHEEK_SQUINT", ["FT_CHEEK_SQUINT_RIGHT", "FT_CHEEK_SQUINT_LEFT"]],
	["FT_LIP_SUCK", ["FT_LIP_SUCK_UPPER", "FT_LIP_SUCK_LOWER"]],
	["FT_MOUTH_UPPER_UP", ["FT_MOUTH_UPPER_UP_RIGHT", "FT_MOUTH_UPPER_UP_LEFT"]],
	["FT_MOUTH_LOWER_DOWN", ["FT_MOUTH_LOWER_DOWN_RIGHT", "FT_MOUTH_LOWER_DOWN_LEFT"]],
	[
		"FT_MOUTH_OPEN",
		[
			"FT_MOUTH_UPPER_UP_RIGHT",
			"FT_MOUTH_UPPER_UP_LEFT",
			"FT_MOUTH_LOWER_DOWN_RIGHT",
			"FT_MOUTH_LOWER_DOWN_LEFT",
		],
	],
	["FT_MOUTH_SMILE", ["FT_MOUTH_SMILE_RIGHT", "FT_MOUTH_SMILE_LEFT"]],
	["FT_MOUTH_SAD_RIGHT", ["FT_MOUTH_FROWN_RIGHT", "FT_MOUTH_STRETCH_RIGHT"]],
	["FT_MOUTH_SAD_LEFT", ["FT_MOUTH_FROWN_LEFT", "FT_MOUTH_STRETCH_LEFT"]],
	["FT_MOUTH_SAD", ["FT_MOUTH_SAD_RIGHT", "FT_MOUTH_SAD_LEFT"]],
	["FT_MOUTH_STRETCH", ["FT_MOUTH_STRETCH_RIGHT", "FT_MOUTH_STRETCH_LEFT"]],
	["FT_MOUTH_DIMPLE", ["FT_MOUTH_DIMPLE_RIGHT", "FT_MOUTH_DIMPLE_LEFT"]],
	["FT_MOUTH_PRESS", ["FT_MOUTH_PRESS_RIGHT", "FT_MOUTH_PRESS_LEFT"]],
]

## Mesh blend shape names that XRFaceModifier3D's own name table (Godot 4.3+,
## scene/3d/xr/xr_face_modifier_3d.cpp) does not know, with the XRFaceTracker entries whose
## mean drives them: ARKit's one "browInnerUp" is both inner brows. Every other ARKit name is
## in that table. AvatarBridgeXRPublisher sets these shapes on the modifiers' meshes itself.
const FACE_MODIFIER_MISSING_SHAPES := {
	"browInnerUp": ["FT_BROW_INNER_UP_RIGHT", "FT_BROW_INNER_UP_LEFT"],
}

static var _alias_lookup: Dictionary = {}


## Lower-cases [param shape_name] and strips what exporters add around it, so that
## "blendShape1.eyeBlink_L", "EyeBlinkLeft" and "eyeBlinkLeft" all give "eyeblinkleft".
## Steps: a trailing side marker "_L"/".L"/"-L"/" L" (or R) becomes "left"/"right"; anything
## up to the last '.' or ':' is dropped; VRoid names keep only their "Fcl_..." part; every
## ASCII character that is not a letter or digit is removed; then one known prefix
## ([constant SHAPE_PREFIXES]) and any digits after it are stripped.
static func normalize_shape_name(shape_name: String) -> String:
	var text := shape_name.strip_edges().to_lower()
	var side := ""
	if text.length() > 2 and "_.- ".contains(text[text.length() - 2]):
		var last := text[text.length() - 1]
		if last == "l":
			side = "left"
		elif last == "r":
			side = "right"
		if not side.is_empty():
			text = text.left(text.length() - 2)
	var cut := maxi(text.rfind("."), text.rfind(":"))
	if cut >= 0 and cut < text.length() - 1:
		text = text.substr(cut + 1)
	var fcl := text.find("fcl_")
	if fcl > 0:
		text = text.substr(fcl)
	var compact := ""
	for character in text:
		if _is_alphanumeric(character):
			compact += character
	for prefix: String in SHAPE_PREFIXES:
		if compact.begins_with(prefix) and compact.length() > prefix.length():
			compact = compact.substr(prefix.length())
			while compact.length() > 1 and _is_digit(compact[0]):
				compact = compact.substr(1)
			break
	return compact + side


## Every normalized key under which a mesh blend shape may stand for [param shape_name]: its
## own normalized form first, then the other members of its alias group (VRM 0.x <-> 1.0).
static func shape_match_keys(shape_name: String) -> PackedStringArray:
	var key := normalize_shape_name(shape_name)
	var keys := PackedStringArray([key])
	if _alias_lookup.is_empty():
		for group: Array in ALIAS_GROUPS:
			for member: String in group:
				_alias_lookup[member] = group
	if _alias_lookup.has(key):
		var group: Array = _alias_lookup[key]
		for member: String in group:
			if member != key:
				keys.append(member)
	return keys


## The Godot humanoid bone name for a Unity HumanBodyBones name, or "" when it has none.
static func godot_bone_name(unity_bone: String) -> String:
	return UNITY_TO_GODOT_BONES.get(unity_bone, "")


## True when skeleton bone [param bone_name] stands for humanoid bone [param wanted]: the same
## name ignoring case, or [param wanted] after a separator (":", "_", "." or " "), as in
## "mixamorig:Head" or "J_Bip_C_Head".
static func bone_name_matches(bone_name: String, wanted: String) -> bool:
	var bone := bone_name.to_lower()
	var target := wanted.to_lower()
	if bone == target:
		return true
	if not bone.ends_with(target) or bone.length() == target.length():
		return false
	var before := bone[bone.length() - target.length() - 1]
	return ":_. ".contains(before)


## ASCII letters and digits, and every non-ASCII character (so that e.g. Japanese shape names
## survive normalization).
static func _is_alphanumeric(character: String) -> bool:
	if character.unicode_at(0) > 127:
		return true
	return _is_digit(character) or (character >= "a" and character <= "z")


static func _is_digit(character: String) -> bool:
	return character >= "0" and character <= "9"
