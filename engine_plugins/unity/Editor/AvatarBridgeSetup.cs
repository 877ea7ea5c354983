using System.Collections.Generic;
using System.Text;
using AvatarBridge.Protocol;
using UnityEditor;
using UnityEngine;

namespace AvatarBridge.Editor
{
    /// <summary>
    /// One-step setup: adds and wires the receiver and drivers on the selected avatar, then reports
    /// which ARKit and VRM blendshapes its meshes have, so a user knows at once whether automatic
    /// matching covers the avatar or a <see cref="BlendshapeMapping"/> is needed. Everything is
    /// undoable as one step.
    /// </summary>
    public static class AvatarBridgeSetup
    {
        public const string MenuPath = "Avatar Bridge/Set Up Selected Avatar";

        [MenuItem(MenuPath, false, 0)]
        private static void SetUpSelected()
        {
            foreach (GameObject go in Selection.gameObjects)
            {
                SetUp(go);
            }
        }

        [MenuItem(MenuPath, true)]
        private static bool CanSetUpSelected()
        {
            return Selection.activeGameObject != null;
        }

        [MenuItem("GameObject/Avatar Bridge/Set Up Avatar", false, 30)]
        private static void SetUpFromHierarchy(MenuCommand command)
        {
            var go = command.context as GameObject;
            if (go != null)
            {
                SetUp(go);
            }
            else
            {
                SetUpSelected();
            }
        }

        /// <summary>Adds (or reuses) and configures the components on <paramref name="avatar"/> and logs a report.</summary>
        public static void SetUp(GameObject avatar)
        {
            Undo.SetCurrentGroupName("Set Up Avatar Bridge");
            int group = Undo.GetCurrentGroup();
            var log = new StringBuilder("[Avatar Bridge] Set up '" + avatar.name + "':\n");

            AvatarBridgeReceiver receiver = SceneObjects.FindAny<AvatarBridgeReceiver>();
            if (receiver == null)
            {
                receiver = Undo.AddComponent<AvatarBridgeReceiver>(avatar);
                log.Append("- added an Avatar Bridge Receiver (VMC on UDP port ").Append(receiver.VmcPort).Append(")\n");
            }
            else
            {
                log.Append("- using the scene's receiver on '").Append(receiver.name).Append("'\n");
            }

            var renderers = new List<SkinnedMeshRenderer>();
            foreach (SkinnedMeshRenderer r in avatar.GetComponentsInChildren<SkinnedMeshRenderer>(true))
            {
                if (r.sharedMesh != null && r.sharedMesh.blendShapeCount > 0)
                {
                    renderers.Add(r);
                }
            }
            if (renderers.Count > 0)
            {
                BlendshapeDriver face = GetOrAdd<BlendshapeDriver>(avatar);
                Undo.RecordObject(face, "Configure Blendshape Driver");
                face.Receiver = receiver;
                face.Renderers.Clear();
                face.Renderers.AddRange(renderers);
                Touched(face);
                log.Append("- Blendshape Driver on ").Append(renderers.Count).Append(" mesh(es)\n");
                log.Append(BuildReport(renderers, face.Mapping));
            }
            else
            {
                log.Append("- no SkinnedMeshRenderer with blendshapes found: the face is not driven\n");
            }

            Animator animator = avatar.GetComponentInChildren<Animator>();
            if (animator != null && animator.isHuman)
            {
                HumanoidBoneDriver body = GetOrAdd<HumanoidBoneDriver>(avatar);
                Undo.RecordObject(body, "Configure Humanoid Bone Driver");
                body.Receiver = receiver;
                body.Animator = animator;
                Touched(body);
                log.Append("- Humanoid Bone Driver on Animator '").Append(animator.name).Append("'\n");
            }
            else
            {
                log.Append("- no humanoid Animator: bones are not driven (set Rig > Animation Type to Humanoid in the model's import settings)\n");
            }
            if (animator != null)
            {
                TriggerDriver triggers = GetOrAdd<TriggerDriver>(avatar);
                Undo.RecordObject(triggers, "Configure Trigger Driver");
                triggers.Receiver = receiver;
                triggers.Animator = animator;
                Touched(triggers);
                log.Append("- Trigger Driver (add rules to map events to Animator parameters; events need the WebSocket transport)\n");
            }
            Undo.CollapseUndoOperations(group);
            Debug.Log(log.ToString(), avatar);
        }

        /// <summary>
        /// Which of the 52 ARKit shapes and the VRM presets the meshes provide, which are missing,
        /// and which mesh shapes nothing drives. Shared by the setup action and the driver inspector.
        /// </summary>
        public static string BuildReport(IList<SkinnedMeshRenderer> renderers, BlendshapeMapping mapping)
        {
            var shapes = new List<string>();
            foreach (SkinnedMeshRenderer r in renderers)
            {
                if (r == null || r.sharedMesh == null)
                {
                    continue;
                }
                for (int i = 0; i < r.sharedMesh.blendShapeCount; i++)
                {
                    shapes.Add(r.sharedMesh.GetBlendShapeName(i));
                }
            }
            var wanted = new List<string>(ArkitNames.All);
            wanted.AddRange(ArkitNames.VrmPresets);
            MatchReport report = ShapeNameMatcher.Report(wanted, shapes);

            var arkitKeys = new Dictionary<string, string>(System.StringComparer.Ordinal);
            foreach (string a in ArkitNames.All)
            {
                arkitKeys[ShapeNameMatcher.Canonical(a)] = a;
            }
            var arkitCovered = new HashSet<string>(System.StringComparer.Ordinal);
            var matched = new StringBuilder();
            foreach (KeyValuePair<string, string> m in report.Matched)
            {
                matched.Append("    ").Append(m.Key).Append(" -> ").Append(m.Value).Append('\n');
                if (arkitKeys.ContainsKey(ShapeNameMatcher.Canonical(m.Key)))
                {
                    arkitCovered.Add(m.Key);
                }
            }

            var mappedTargets = new HashSet<string>(System.StringComparer.OrdinalIgnoreCase);
            var mappedSources = new HashSet<string>(System.StringComparer.Ordinal);
            if (mapping != null)
            {
                foreach (BlendshapeMapping.Entry e in mapping.Entries)
                {
                    if (e == null || !shapes.Exists(s => string.Equals(s, e.Target, System.StringComparison.OrdinalIgnoreCase)))
                    {
                        continue;
                    }
                    string key = ShapeNameMatcher.Canonical(e.Source);
                    mappedTargets.Add(e.Target);
                    mappedSources.Add(key);
                    matched.Append("    ").Append(e.Source).Append(" -> ").Append(e.Target).Append(" (mapping asset)\n");
                    string arkit;
                    if (arkitKeys.TryGetValue(key, out arkit))
                    {
                        arkitCovered.Add(arkit);
                    }
                }
            }
            var arkitMissing = new List<string>();
            var vrmMissing = new List<string>();
            foreach (string w in report.Missing)
            {
                string key = ShapeNameMatcher.Canonical(w);
                if (!mappedSources.Contains(key))
                {
                    (arkitKeys.ContainsKey(key) ? arkitMissing : vrmMissing).Add(w);
                }
            }
            List<string> unused = report.Unused.FindAll(s => !mappedTargets.Contains(s));
            int arkitMatched = arkitCovered.Count;

            var b = new StringBuilder();
            b.Append("  ARKit shapes matched: ").Append(arkitMatched).Append("/").Append(ArkitNames.All.Length).Append('\n');
            if (matched.Length > 0)
            {
                b.Append("  matched (received name -> mesh shape):\n").Append(matched);
            }
            if (arkitMissing.Count > 0)
            {
                b.Append("  ARKit shapes NOT found: ").Append(string.Join(", ", arkitMissing.ToArray())).Append('\n');
            }
            // Missing VRM presets matter only on an avatar that has some: a pure ARKit avatar needs none.
            if (vrmMissing.Count > 0 && vrmMissing.Count < ArkitNames.VrmPresets.Length)
            {
                b.Append("  VRM presets NOT found: ").Append(string.Join(", ", vrmMissing.ToArray())).Append('\n');
            }
            if (unused.Count > 0)
            {
                b.Append("  mesh shapes nothing drives (map them with a Blendshape Mapping asset if needed): ")
                    .Append(string.Join(", ", unused.ToArray())).Append('\n');
            }
            return b.ToString();
        }

        private static T GetOrAdd<T>(GameObject go) where T : Component
        {
            T c = go.GetComponent<T>();
            return c != null ? c : Undo.AddComponent<T>(go);
        }

        private static void Touched(Object o)
        {
            EditorUtility.SetDirty(o);
            PrefabUtility.RecordPrefabInstancePropertyModifications(o);
        }
    }
}
