using System;
using System.Collections.Generic;
using UnityEngine;

namespace AvatarBridge
{
    /// <summary>
    /// Hand-made routes from received blendshape names to mesh blendshapes, for avatars whose shape
    /// names automatic matching cannot guess (e.g. "MTH_Open" for jawOpen) or that need a shape
    /// scaled. Kept as an asset so one mapping serves every instance of an avatar and survives
    /// re-running the setup.
    /// </summary>
    [CreateAssetMenu(menuName = "Avatar Bridge/Blendshape Mapping", fileName = "BlendshapeMapping")]
    public sealed class BlendshapeMapping : ScriptableObject
    {
        [Serializable]
        public sealed class Entry
        {
            [Tooltip("Received name (ARKit such as jawOpen, or VRM such as aa). Matched like automatic matching: case, separators and prefixes ignored.")]
            [SerializeField] private string source = "";

            [Tooltip("Exact mesh blendshape name (case-insensitive) on any of the driver's renderers.")]
            [SerializeField] private string target = "";

            [Tooltip("Multiplier on the received 0..1 value.")]
            [SerializeField] private float scale = 1f;

            public Entry()
            {
            }

            public Entry(string source, string target, float scale)
            {
                this.source = source;
                this.target = target;
                this.scale = scale;
            }

            public string Source
            {
                get { return source; }
            }

            public string Target
            {
                get { return target; }
            }

            public float Scale
            {
                get { return scale; }
            }
        }

        [SerializeField] private List<Entry> entries = new List<Entry>();

        [Tooltip("When on, a mesh shape named as a target here is driven only by its entries, not also by automatic matching.")]
        [SerializeField] private bool overrideAutomaticMatches = true;

        public IList<Entry> Entries
        {
            get { return entries; }
        }

        public bool OverrideAutomaticMatches
        {
            get { return overrideAutomaticMatches; }
        }
    }
}
