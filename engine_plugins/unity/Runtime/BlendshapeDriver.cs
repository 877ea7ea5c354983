using System;
using System.Collections.Generic;
using AvatarBridge.Protocol;
using UnityEngine;

namespace AvatarBridge
{
    /// <summary>
    /// Drives blendshapes on one or more SkinnedMeshRenderers from the received values. Each
    /// received name is matched to mesh shapes the first time it arrives (so the same avatar works
    /// whether the sidecar sends ARKit or VRM names), using <see cref="ShapeNameMatcher"/> and an
    /// optional <see cref="BlendshapeMapping"/>. Values are 0..1 on the wire and scaled to Unity's
    /// 0..100 weights; shapes not present in a frame keep their last value. Runs in LateUpdate so it
    /// overrides animation clips that key the same shapes.
    /// </summary>
    [AddComponentMenu("Avatar Bridge/Blendshape Driver")]
    public sealed class BlendshapeDriver : BridgeDriver
    {
        [SerializeField] private List<SkinnedMeshRenderer> renderers = new List<SkinnedMeshRenderer>();

        [Tooltip("Optional explicit routes for shapes that automatic matching misses.")]
        [SerializeField] private BlendshapeMapping mapping;

        [Tooltip("Match received names to mesh shapes by name (ARKit, VRM 0/1, common prefixes and _L/_R suffixes).")]
        [SerializeField] private bool automaticMatching = true;

        [Tooltip("Unity weight for a received value of 1: 100 for meshes imported normally.")]
        [SerializeField] private float fullWeight = 100f;

        private struct Slot
        {
            public SkinnedMeshRenderer Renderer;
            public int Index;
            public string ShapeName;
            public float Target;
            public float Current;
            public float Applied;
            public int Stamp;
        }

        private struct Route
        {
            public int Slot;
            public float Scale;
        }

        private static readonly Route[] NoRoutes = new Route[0];

        private readonly Dictionary<string, Route[]> routes = new Dictionary<string, Route[]>(StringComparer.Ordinal);
        private readonly Dictionary<string, List<int>> slotsByKey = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        private readonly Dictionary<string, List<int>> slotsByName = new Dictionary<string, List<int>>(StringComparer.OrdinalIgnoreCase);
        private readonly HashSet<int> mappedSlots = new HashSet<int>();
        private Slot[] slots = new Slot[0];
        private int stamp;

        public BlendshapeDriver()
            : base(0.04f)
        {
        }

        public List<SkinnedMeshRenderer> Renderers
        {
            get { return renderers; }
        }

        public BlendshapeMapping Mapping
        {
            get { return mapping; }
            set { mapping = value; Rebind(); }
        }

        /// <summary>Received names seen so far and how many mesh shapes each drives (for the inspector).</summary>
        public void GetRoutes(List<KeyValuePair<string, int>> into)
        {
            into.Clear();
            foreach (KeyValuePair<string, Route[]> r in routes)
            {
                into.Add(new KeyValuePair<string, int>(r.Key, r.Value.Length));
            }
        }

        /// <summary>The live weight (0..100) of each driven shape, for the inspector.</summary>
        public void GetLiveWeights(List<KeyValuePair<string, float>> into)
        {
            into.Clear();
            for (int i = 0; i < slots.Length; i++)
            {
                if (slots[i].Stamp != 0)
                {
                    into.Add(new KeyValuePair<string, float>(slots[i].Renderer.name + "/" + slots[i].ShapeName, slots[i].Applied));
                }
            }
        }

        /// <summary>Re-reads the renderers' shape lists and the mapping; call after changing either at runtime.</summary>
        public void Rebind()
        {
            routes.Clear();
            slotsByKey.Clear();
            slotsByName.Clear();
            mappedSlots.Clear();
            var list = new List<Slot>();
            foreach (SkinnedMeshRenderer r in renderers)
            {
                if (r == null || r.sharedMesh == null)
                {
                    continue;
                }
                Mesh mesh = r.sharedMesh;
                for (int i = 0; i < mesh.blendShapeCount; i++)
                {
                    string shape = mesh.GetBlendShapeName(i);
                    int slot = list.Count;
                    list.Add(new Slot { Renderer = r, Index = i, ShapeName = shape, Current = r.GetBlendShapeWeight(i) / Mathf.Max(fullWeight, 1e-6f), Applied = float.NaN });
                    Add(slotsByKey, ShapeNameMatcher.Canonical(shape), slot);
                    Add(slotsByName, shape, slot);
                }
            }
            slots = list.ToArray();
            if (mapping != null && mapping.OverrideAutomaticMatches)
            {
                foreach (BlendshapeMapping.Entry e in mapping.Entries)
                {
                    List<int> targets;
                    if (e != null && slotsByName.TryGetValue(e.Target ?? "", out targets))
                    {
                        mappedSlots.UnionWith(targets);
                    }
                }
            }
            RetakeFrame();
        }

        private static void Add(Dictionary<string, List<int>> d, string key, int slot)
        {
            List<int> l;
            if (!d.TryGetValue(key, out l))
            {
                l = new List<int>();
                d.Add(key, l);
            }
            l.Add(slot);
        }

        private void OnEnable()
        {
            Rebind();
        }

        private void LateUpdate()
        {
            FrameData frame;
            if (TryTakeNewFrame(out frame))
            {
                Receive(frame);
            }
            float k = SmoothingStep();
            float scale = Weight * fullWeight;
            for (int i = 0; i < slots.Length; i++)
            {
                if (slots[i].Stamp == 0 || slots[i].Renderer == null)
                {
                    continue;
                }
                slots[i].Current += (slots[i].Target - slots[i].Current) * k;
                float w = slots[i].Current * scale;
                if (w != slots[i].Applied)
                {
                    slots[i].Renderer.SetBlendShapeWeight(slots[i].Index, w);
                    slots[i].Applied = w;
                }
            }
        }

        /// <summary>
        /// Writes one frame's values into the slots. When several received names drive one shape
        /// (e.g. a mapping entry plus a VRM alias) the largest value of the frame wins, so
        /// combining sources never depends on message order.
        /// </summary>
        private void Receive(FrameData frame)
        {
            stamp = stamp == int.MaxValue ? 1 : stamp + 1;
            for (int b = 0; b < frame.BlendCount; b++)
            {
                Route[] r = RoutesFor(frame.BlendNames[b]);
                float value = frame.BlendValues[b];
                if (float.IsNaN(value))
                {
                    continue;
                }
                for (int j = 0; j < r.Length; j++)
                {
                    float v = Mathf.Clamp01(value * r[j].Scale);
                    int s = r[j].Slot;
                    if (slots[s].Stamp != stamp)
                    {
                        slots[s].Stamp = stamp;
                        slots[s].Target = v;
                    }
                    else if (v > slots[s].Target)
                    {
                        slots[s].Target = v;
                    }
                }
            }
        }

        /// <summary>Resolves a received name to mesh shapes once; later frames hit the dictionary only.</summary>
        private Route[] RoutesFor(string name)
        {
            Route[] r;
            if (routes.TryGetValue(name, out r))
            {
                return r;
            }
            var found = new List<Route>();
            string key = ShapeNameMatcher.Canonical(name);
            if (mapping != null)
            {
                foreach (BlendshapeMapping.Entry e in mapping.Entries)
                {
                    List<int> targets;
                    if (e != null && ShapeNameMatcher.Canonical(e.Source) == key && slotsByName.TryGetValue(e.Target ?? "", out targets))
                    {
                        foreach (int t in targets)
                        {
                            found.Add(new Route { Slot = t, Scale = e.Scale });
                        }
                    }
                }
            }
            List<int> auto;
            if (automaticMatching && slotsByKey.TryGetValue(key, out auto))
            {
                foreach (int t in auto)
                {
                    if (!mappedSlots.Contains(t))
                    {
                        found.Add(new Route { Slot = t, Scale = 1f });
                    }
                }
            }
            r = found.Count == 0 ? NoRoutes : found.ToArray();
            routes.Add(name, r);
            return r;
        }
    }
}
