using System.Collections.Generic;
using UnityEditor;
using UnityEngine;

namespace AvatarBridge.Editor
{
    /// <summary>Blendshape driver inspector: the match report on demand and live weights while playing.</summary>
    [CustomEditor(typeof(BlendshapeDriver))]
    public sealed class BlendshapeDriverEditor : UnityEditor.Editor
    {
        private readonly List<KeyValuePair<string, float>> weights = new List<KeyValuePair<string, float>>();
        private readonly List<KeyValuePair<string, int>> routes = new List<KeyValuePair<string, int>>();

        public override bool RequiresConstantRepaint()
        {
            return Application.isPlaying;
        }

        public override void OnInspectorGUI()
        {
            DrawDefaultInspector();
            var driver = (BlendshapeDriver)target;
            if (GUILayout.Button("Log Blendshape Match Report"))
            {
                Debug.Log("[Avatar Bridge] Blendshapes of '" + driver.name + "':\n" + AvatarBridgeSetup.BuildReport(driver.Renderers, driver.Mapping), driver);
            }
            if (!Application.isPlaying)
            {
                return;
            }
            if (GUILayout.Button("Rebind (after changing meshes or the mapping)"))
            {
                driver.Rebind();
            }
            driver.GetRoutes(routes);
            var unmatched = new List<string>();
            foreach (KeyValuePair<string, int> r in routes)
            {
                if (r.Value == 0)
                {
                    unmatched.Add(r.Key);
                }
            }
            if (unmatched.Count > 0)
            {
                EditorGUILayout.HelpBox("Received but not on any mesh: " + string.Join(", ", unmatched.ToArray()), MessageType.None);
            }
            driver.GetLiveWeights(weights);
            EditorGUILayout.LabelField("Driven shapes", weights.Count.ToString(), EditorStyles.boldLabel);
            foreach (KeyValuePair<string, float> w in weights)
            {
                Rect r = EditorGUILayout.GetControlRect(false, EditorGUIUtility.singleLineHeight);
                EditorGUI.ProgressBar(r, Mathf.Clamp01(w.Value / 100f), w.Key + "  " + w.Value.ToString("0.0"));
            }
        }
    }

    /// <summary>Bone driver inspector: the received rotation of each driven bone while playing.</summary>
    [CustomEditor(typeof(HumanoidBoneDriver))]
    public sealed class HumanoidBoneDriverEditor : UnityEditor.Editor
    {
        private readonly List<KeyValuePair<HumanBodyBones, Quaternion>> rotations = new List<KeyValuePair<HumanBodyBones, Quaternion>>();

        public override bool RequiresConstantRepaint()
        {
            return Application.isPlaying;
        }

        public override void OnInspectorGUI()
        {
            DrawDefaultInspector();
            var driver = (HumanoidBoneDriver)target;
            if (!Application.isPlaying)
            {
                EditorGUILayout.HelpBox("The reference pose is captured when Play starts: keep the avatar in its rest (T-)pose in the scene, or pick Avatar T Pose.", MessageType.Info);
                return;
            }
            if (GUILayout.Button("Recapture Reference Pose"))
            {
                driver.CaptureReferencePose();
            }
            driver.GetLiveRotations(rotations);
            EditorGUILayout.LabelField("Driven bones (received, Euler degrees)", rotations.Count.ToString(), EditorStyles.boldLabel);
            foreach (KeyValuePair<HumanBodyBones, Quaternion> b in rotations)
            {
                EditorGUILayout.LabelField(b.Key.ToString(), b.Value.eulerAngles.ToString("F1"));
            }
        }
    }

    /// <summary>Trigger driver inspector: the last events and the float parameters being driven.</summary>
    [CustomEditor(typeof(TriggerDriver))]
    public sealed class TriggerDriverEditor : UnityEditor.Editor
    {
        private readonly List<KeyValuePair<string, float>> floats = new List<KeyValuePair<string, float>>();

        public override bool RequiresConstantRepaint()
        {
            return Application.isPlaying;
        }

        public override void OnInspectorGUI()
        {
            DrawDefaultInspector();
            var driver = (TriggerDriver)target;
            if (driver.Receiver != null && driver.Receiver.Transport != TransportKind.WebSocket)
            {
                EditorGUILayout.HelpBox("Events (expressions, actions, gestures) are only sent over the WebSocket transport; switch the receiver to WebSocket.", MessageType.Warning);
            }
            if (!Application.isPlaying)
            {
                return;
            }
            EditorGUILayout.LabelField("Recent events", EditorStyles.boldLabel);
            foreach (string e in driver.RecentEvents)
            {
                EditorGUILayout.LabelField(e);
            }
            driver.GetLiveFloats(floats);
            foreach (KeyValuePair<string, float> f in floats)
            {
                Rect r = EditorGUILayout.GetControlRect(false, EditorGUIUtility.singleLineHeight);
                EditorGUI.ProgressBar(r, Mathf.Clamp01(f.Value), f.Key + "  " + f.Value.ToString("0.00"));
            }
        }
    }
}
