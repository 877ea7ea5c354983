using AvatarBridge.Protocol;
using UnityEditor;
using UnityEngine;

namespace AvatarBridge.Editor
{
    /// <summary>
    /// Shows, while playing, whether packets arrive and what they hold (connection state, counters,
    /// the latest frame's values), and offers the sidecar's commands, so "my avatar doesn't move"
    /// can be narrowed down without a debugger.
    /// </summary>
    [CustomEditor(typeof(AvatarBridgeReceiver))]
    public sealed class AvatarBridgeReceiverEditor : UnityEditor.Editor
    {
        private bool showBlendshapes = true;
        private bool showBones = true;

        public override bool RequiresConstantRepaint()
        {
            return Application.isPlaying;
        }

        public override void OnInspectorGUI()
        {
            DrawDefaultInspector();
            var receiver = (AvatarBridgeReceiver)target;
            if (!Application.isPlaying)
            {
                EditorGUILayout.HelpBox("Enter Play Mode to see live values. Start the sidecar with VMC output to port "
                    + receiver.VmcPort + " (default) or its WebSocket server.", MessageType.Info);
                return;
            }
            EditorGUILayout.Space();
            EditorGUILayout.LabelField("Live", EditorStyles.boldLabel);
            EditorGUILayout.LabelField("State", receiver.State.ToString());
            if (!string.IsNullOrEmpty(receiver.StateDetail))
            {
                EditorGUILayout.LabelField(" ", receiver.StateDetail, EditorStyles.wordWrappedMiniLabel);
            }
            EditorGUILayout.LabelField("Packets / frames", receiver.PacketsReceived + " / " + receiver.FramesDecoded);
            EditorGUILayout.LabelField("Malformed (ignored)", receiver.BadPackets.ToString());
            string followed = string.IsNullOrEmpty(receiver.FollowName) ? "slot " + receiver.FollowSlot : "\"" + receiver.FollowName + "\"";
            if (receiver.Transport == TransportKind.WebSocket && receiver.FramesWithoutPerson > 0)
            {
                EditorGUILayout.LabelField("Frames without " + followed, receiver.FramesWithoutPerson.ToString());
            }

            HelloData hello = receiver.Hello;
            if (hello != null)
            {
                EditorGUILayout.LabelField("Server", hello.Server + " " + hello.Version + (hello.Mirror ? " (mirrored)" : " (first person)"));
                if (hello.MaxPeople > 0 && string.IsNullOrEmpty(receiver.FollowName) && receiver.FollowSlot > hello.MaxPeople)
                {
                    EditorGUILayout.HelpBox("The sidecar tracks " + hello.MaxPeople + " people, so slot " + receiver.FollowSlot
                        + " never has anyone: start it with --people " + receiver.FollowSlot + " or choose a lower slot.", MessageType.Warning);
                }
            }
            if (receiver.Transport == TransportKind.WebSocket)
            {
                using (new EditorGUILayout.HorizontalScope())
                {
                    if (GUILayout.Button("Calibrate"))
                    {
                        receiver.Calibrate();
                    }
                    if (GUILayout.Button("Pause"))
                    {
                        receiver.Send(ControlCommands.Pause());
                    }
                    if (GUILayout.Button("Resume"))
                    {
                        receiver.Send(ControlCommands.Resume());
                    }
                }
            }

            FrameData frame = receiver.LatestFrame;
            if (frame == null)
            {
                EditorGUILayout.HelpBox("No complete frame yet. Check that the sidecar sends to this port/URL and that no other program (another VMC receiver) holds the port.", MessageType.Warning);
                return;
            }
            EditorGUILayout.LabelField("Frame", "#" + frame.Sequence + (frame.TrackingStatus == 0 || (frame.HasFace && !frame.Face.Found) ? "  (face lost)" : ""));
            if (frame.Source == FrameSource.WebSocket)
            {
                EditorGUILayout.LabelField("Person", "id " + frame.PersonId + ", slot " + frame.PersonSlot
                    + (frame.PersonName != null ? ", " + frame.PersonName : "")
                    + (float.IsNaN(frame.PersonSimilarity) ? "" : " (" + frame.PersonSimilarity.ToString("0.00") + ")"));
            }
            showBones = EditorGUILayout.Foldout(showBones, "Bones (" + frame.BoneCount + ")", true);
            if (showBones)
            {
                for (int i = 0; i < frame.BoneCount; i++)
                {
                    Vector3 euler = frame.BoneRotations[i].ToUnity().eulerAngles;
                    EditorGUILayout.LabelField(frame.BoneNames[i], euler.ToString("F1"));
                }
            }
            showBlendshapes = EditorGUILayout.Foldout(showBlendshapes, "Blendshapes (" + frame.BlendCount + ")", true);
            if (showBlendshapes)
            {
                for (int i = 0; i < frame.BlendCount; i++)
                {
                    Rect r = EditorGUILayout.GetControlRect(false, EditorGUIUtility.singleLineHeight);
                    EditorGUI.ProgressBar(r, Mathf.Clamp01(frame.BlendValues[i]), frame.BlendNames[i] + "  " + frame.BlendValues[i].ToString("0.00"));
                }
            }
        }
    }
}
