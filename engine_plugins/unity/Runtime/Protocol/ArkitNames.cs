namespace AvatarBridge.Protocol
{
    /// <summary>
    /// The 52 ARKit blendshape names in Apple's order: the sidecar's default channel list
    /// (bridge/arkit.py). The setup report checks avatars against this list.
    /// </summary>
    public static class ArkitNames
    {
        public static readonly string[] All =
        {
            "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft",
            "eyeSquintLeft", "eyeWideLeft",
            "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight",
            "eyeSquintRight", "eyeWideRight",
            "jawForward", "jawLeft", "jawRight", "jawOpen",
            "mouthClose", "mouthFunnel", "mouthPucker", "mouthLeft", "mouthRight",
            "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
            "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight",
            "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
            "mouthPressLeft", "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight",
            "mouthUpperUpLeft", "mouthUpperUpRight",
            "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
            "cheekPuff", "cheekSquintLeft", "cheekSquintRight",
            "noseSneerLeft", "noseSneerRight",
            "tongueOut",
        };

        /// <summary>VRM 1.0 preset expression names; VRM 0.x names are aliases of these (see <see cref="ShapeNameMatcher"/>).</summary>
        public static readonly string[] VrmPresets =
        {
            "aa", "ih", "ou", "ee", "oh", "blink", "blinkLeft", "blinkRight",
            "happy", "angry", "sad", "relaxed", "surprised",
        };
    }
}
