using System;
using System.Collections.Generic;
using System.Text;

namespace AvatarBridge.Protocol
{
    /// <summary>
    /// Decides which mesh blendshape a received name drives, without a hand-made table per avatar.
    /// Both names are reduced to a canonical key: exporter prefixes ("blendShape1.", "BS_",
    /// "ARKit_") dropped, case and separators ignored, "_L"/"_R"/".L"/".R" read as Left/Right, and
    /// the VRM 0.x, VRoid and VRChat viseme spellings of the VRM presets folded onto the VRM 1.0
    /// names. So "eyeBlink_L", "blendShape1.EyeBlinkLeft" and "eye_blink_left" all match
    /// "eyeBlinkLeft", and "Blink_L" (VRM 0) matches "blinkLeft" (VRM 1).
    /// </summary>
    public static class ShapeNameMatcher
    {
        private static readonly Dictionary<string, string> Aliases = BuildAliases();

        /// <summary>The canonical key of a shape name; two names match when their keys are equal.</summary>
        public static string Canonical(string name)
        {
            if (string.IsNullOrEmpty(name))
            {
                return string.Empty;
            }
            string s = name.Trim();
            int n = s.Length;
            if (n > 2 && s[n - 2] == '.' && IsSideLetter(s[n - 1]))
            {
                s = s.Substring(0, n - 2) + "_" + s[n - 1];
            }
            int dot = s.LastIndexOf('.');
            if (dot >= 0 && dot < s.Length - 1)
            {
                s = s.Substring(dot + 1);
            }
            s = StripPrefixes(s.ToLowerInvariant());
            if (s.Length > 2 && IsSeparator(s[s.Length - 2]) && (s[s.Length - 1] == 'l' || s[s.Length - 1] == 'r'))
            {
                s = s.Substring(0, s.Length - 2) + (s[s.Length - 1] == 'l' ? "left" : "right");
            }
            var key = new StringBuilder(s.Length);
            foreach (char c in s)
            {
                if (!IsSeparator(c))
                {
                    key.Append(c);
                }
            }
            string k = key.ToString();
            string alias;
            return Aliases.TryGetValue(k, out alias) ? alias : k;
        }

        public static bool Matches(string a, string b)
        {
            return string.Equals(Canonical(a), Canonical(b), StringComparison.Ordinal);
        }

        /// <summary>
        /// Which of <paramref name="wanted"/> (e.g. the 52 ARKit names) the mesh shapes cover, which
        /// are missing, and which mesh shapes nothing drives: what the setup action reports.
        /// </summary>
        public static MatchReport Report(IList<string> wanted, IList<string> meshShapes)
        {
            var byKey = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            foreach (string shape in meshShapes)
            {
                string k = Canonical(shape);
                List<string> list;
                if (!byKey.TryGetValue(k, out list))
                {
                    list = new List<string>();
                    byKey.Add(k, list);
                }
                list.Add(shape);
            }
            var report = new MatchReport();
            var used = new HashSet<string>(StringComparer.Ordinal);
            foreach (string w in wanted)
            {
                List<string> shapes;
                if (byKey.TryGetValue(Canonical(w), out shapes))
                {
                    foreach (string shape in shapes)
                    {
                        report.Matched.Add(new KeyValuePair<string, string>(w, shape));
                        used.Add(shape);
                    }
                }
                else
                {
                    report.Missing.Add(w);
                }
            }
            foreach (string shape in meshShapes)
            {
                if (!used.Contains(shape))
                {
                    report.Unused.Add(shape);
                }
            }
            return report;
        }

        private static string StripPrefixes(string s)
        {
            bool changed = true;
            while (changed)
            {
                changed = false;
                int skip = PrefixLength(s);
                if (skip > 0 && skip < s.Length)
                {
                    s = s.Substring(skip);
                    changed = true;
                }
            }
            return s;
        }

        /// <summary>Length of a known exporter prefix: "blendshape" + digits + separator, "bs_", "arkit_".</summary>
        private static int PrefixLength(string s)
        {
            if (s.StartsWith("blendshape", StringComparison.Ordinal))
            {
                int p = "blendshape".Length;
                while (p < s.Length && char.IsDigit(s[p]))
                {
                    p++;
                }
                if (p < s.Length && IsSeparator(s[p]))
                {
                    p++;
                }
                return p;
            }
            if (s.Length > 3 && s.StartsWith("bs", StringComparison.Ordinal) && IsSeparator(s[2]))
            {
                return 3;
            }
            if (s.Length > 6 && s.StartsWith("arkit", StringComparison.Ordinal) && IsSeparator(s[5]))
            {
                return 6;
            }
            return 0;
        }

        private static bool IsSeparator(char c)
        {
            return c == '_' || c == '-' || c == ' ';
        }

        private static bool IsSideLetter(char c)
        {
            return c == 'L' || c == 'R' || c == 'l' || c == 'r';
        }

        private static Dictionary<string, string> BuildAliases()
        {
            string[,] pairs =
            {
                // VRM 0.x presets
                { "a", "aa" }, { "i", "ih" }, { "u", "ou" }, { "e", "ee" }, { "o", "oh" },
                { "joy", "happy" }, { "sorrow", "sad" }, { "fun", "relaxed" },
                // VRoid Studio mesh shapes behind those presets
                { "fclmtha", "aa" }, { "fclmthi", "ih" }, { "fclmthu", "ou" }, { "fclmthe", "ee" }, { "fclmtho", "oh" },
                { "fcleyeclose", "blink" }, { "fcleyecloseleft", "blinkleft" }, { "fcleyecloseright", "blinkright" },
                { "fclalljoy", "happy" }, { "fclallangry", "angry" }, { "fclallsorrow", "sad" },
                { "fclallfun", "relaxed" }, { "fclallsurprised", "surprised" },
                // VRChat visemes ("vrc.v_aa" keeps "v_aa" after the prefix rule)
                { "vaa", "aa" }, { "vih", "ih" }, { "vou", "ou" }, { "ve", "ee" }, { "voh", "oh" },
            };
            var d = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < pairs.GetLength(0); i++)
            {
                d[pairs[i, 0]] = pairs[i, 1];
            }
            return d;
        }
    }

    /// <summary>Result of <see cref="ShapeNameMatcher.Report"/>.</summary>
    public sealed class MatchReport
    {
        /// <summary>(wanted name, mesh shape) pairs; a wanted name can match shapes on several meshes.</summary>
        public readonly List<KeyValuePair<string, string>> Matched = new List<KeyValuePair<string, string>>();
        public readonly List<string> Missing = new List<string>();
        public readonly List<string> Unused = new List<string>();
    }
}
