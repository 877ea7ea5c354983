"""MediaPipe's landmark indices, stated once: BlazePose's 33 pose landmarks and the hand's 21.

A leaf module (it imports nothing of the project), so tracking, retargeting and the classifiers all
take their indices from here. Names are MediaPipe's own (`PoseLandmark`, `HandLandmark`) in lower
case; tests/test_conventions.py checks them against the installed mediapipe. "left" is the person's
own left, which is on the image's right in an unmirrored camera image. Coordinate frames are in
bridge/retarget/conventions.py.
"""
from __future__ import annotations

POSE_NAMES: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
    "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
    "right_ankle", "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)
POSE: dict[str, int] = {n: i for i, n in enumerate(POSE_NAMES)}

# Short names for the pose landmarks the solvers use (pinky/index: the hand's knuckles; toe: foot index)
NOSE, L_EAR, R_EAR = POSE["nose"], POSE["left_ear"], POSE["right_ear"]
L_SH, R_SH = POSE["left_shoulder"], POSE["right_shoulder"]
L_EL, R_EL = POSE["left_elbow"], POSE["right_elbow"]
L_WR, R_WR = POSE["left_wrist"], POSE["right_wrist"]
L_PINKY, R_PINKY = POSE["left_pinky"], POSE["right_pinky"]
L_INDEX, R_INDEX = POSE["left_index"], POSE["right_index"]
L_HIP, R_HIP = POSE["left_hip"], POSE["right_hip"]
L_KNEE, R_KNEE = POSE["left_knee"], POSE["right_knee"]
L_ANK, R_ANK = POSE["left_ankle"], POSE["right_ankle"]
L_HEEL, R_HEEL = POSE["left_heel"], POSE["right_heel"]
L_TOE, R_TOE = POSE["left_foot_index"], POSE["right_foot_index"]

HAND_NAMES: tuple[str, ...] = (
    "wrist", "thumb_cmc", "thumb_mcp", "thumb_ip", "thumb_tip",
    "index_finger_mcp", "index_finger_pip", "index_finger_dip", "index_finger_tip",
    "middle_finger_mcp", "middle_finger_pip", "middle_finger_dip", "middle_finger_tip",
    "ring_finger_mcp", "ring_finger_pip", "ring_finger_dip", "ring_finger_tip",
    "pinky_mcp", "pinky_pip", "pinky_dip", "pinky_tip",
)
HAND: dict[str, int] = {n: i for i, n in enumerate(HAND_NAMES)}
WRIST = HAND["wrist"]
INDEX_MCP, MIDDLE_MCP, PINKY_MCP = HAND["index_finger_mcp"], HAND["middle_finger_mcp"], HAND["pinky_mcp"]
# Unity's finger names (humanoid.FINGERS) -> the finger's four landmarks, knuckle to tip
# (thumb: CMC, MCP, IP, tip; the others: MCP, PIP, DIP, tip)
_MP_FINGER = {"Thumb": "thumb", "Index": "index_finger", "Middle": "middle_finger", "Ring": "ring_finger",
              "Little": "pinky"}
FINGER_CHAINS: dict[str, tuple[int, int, int, int]] = {
    f: tuple(i for i, n in enumerate(HAND_NAMES) if n.startswith(mp + "_")) for f, mp in _MP_FINGER.items()}
