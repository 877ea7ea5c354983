using System;
using System.Collections.Generic;
using AvatarBridge.Protocol;
using UnityEngine;

namespace AvatarBridge.Samples
{
    /// <summary>
    /// Builds a cartoon head mesh with all 52 ARKit blendshapes at runtime, so the sample needs no
    /// third-party model. The head faces +Z (Unity's avatar convention); the avatar's left is -X.
    /// Submeshes: 0 skin, 1 eye whites, 2 dark features (pupils, brows, mouth), 3 tongue.
    /// Each blendshape moves one feature the way the ARKit shape of the same name does, coarsely.
    /// Triangles wind clockwise as seen from the front (+Z), Unity's front-face order.
    /// </summary>
    public static class ProceduralFaceMesh
    {
        private enum Feature
        {
            Skin,
            EyeWhite,
            Pupil,
            Brow,
            Mouth,
            Tongue,
        }

        private struct Vertex
        {
            public Feature Feature;

            /// <summary>-1 on the avatar's left (-X), +1 on its right.</summary>
            public float Side;

            public Vector3 Position;

            /// <summary>Offset from the feature's centre divided by its radii: -1..1 across the feature.</summary>
            public Vector2 Local;
        }

        private const float HeadX = 0.09f;
        private const float HeadY = 0.12f;
        private const float HeadZ = 0.1f;
        private const float EyeX = 0.036f;
        private const float EyeY = 0.022f;
        private const float MouthY = -0.05f;

        private static readonly List<Vertex> Vertices = new List<Vertex>();
        private static readonly List<int>[] Triangles = { new List<int>(), new List<int>(), new List<int>(), new List<int>() };

        public static Mesh Build()
        {
            Vertices.Clear();
            foreach (List<int> t in Triangles)
            {
                t.Clear();
            }
            AddHead(32, 24);
            for (int side = -1; side <= 1; side += 2)
            {
                AddDisc(Feature.EyeWhite, side, new Vector2(side * EyeX, EyeY), new Vector2(0.02f, 0.012f), 0.002f, 1, 24);
                AddDisc(Feature.Pupil, side, new Vector2(side * EyeX, EyeY), new Vector2(0.0075f, 0.0075f), 0.003f, 2, 16);
                AddDisc(Feature.Brow, side, new Vector2(side * EyeX, EyeY + 0.026f), new Vector2(0.02f, 0.003f), 0.002f, 2, 16);
            }
            AddDisc(Feature.Mouth, 0, new Vector2(0f, MouthY), new Vector2(0.03f, 0.004f), 0.002f, 2, 32);
            AddDisc(Feature.Tongue, 0, new Vector2(0f, MouthY - 0.002f), new Vector2(0.014f, 0.006f), -0.004f, 3, 16);

            var mesh = new Mesh { name = "Procedural ARKit Face" };
            var positions = new Vector3[Vertices.Count];
            for (int i = 0; i < positions.Length; i++)
            {
                positions[i] = Vertices[i].Position;
            }
            mesh.vertices = positions;
            mesh.subMeshCount = Triangles.Length;
            for (int s = 0; s < Triangles.Length; s++)
            {
                mesh.SetTriangles(Triangles[s].ToArray(), s);
            }
            mesh.RecalculateNormals();
            mesh.RecalculateBounds();

            var deltas = new Vector3[positions.Length];
            foreach (string shape in ArkitNames.All)
            {
                Func<Vertex, Vector3> rule = RuleFor(shape);
                for (int i = 0; i < deltas.Length; i++)
                {
                    deltas[i] = rule(Vertices[i]);
                }
                mesh.AddBlendShapeFrame(shape, 100f, deltas, null, null);
            }
            return mesh;
        }

        /// <summary>Front surface depth of the head ellipsoid at (x, y).</summary>
        private static float SurfaceZ(float x, float y)
        {
            float u = x / HeadX;
            float v = y / HeadY;
            return HeadZ * Mathf.Sqrt(Mathf.Max(0.05f, 1f - u * u - v * v));
        }

        private static void AddHead(int columns, int rows)
        {
            int start = Vertices.Count;
            for (int r = 0; r <= rows; r++)
            {
                float lat = Mathf.PI * r / rows;
                for (int c = 0; c <= columns; c++)
                {
                    float lon = 2f * Mathf.PI * c / columns;
                    var p = new Vector3(HeadX * Mathf.Sin(lat) * Mathf.Sin(lon), HeadY * Mathf.Cos(lat), HeadZ * Mathf.Sin(lat) * Mathf.Cos(lon));
                    Vertices.Add(new Vertex { Feature = Feature.Skin, Side = Mathf.Sign(p.x), Position = p, Local = new Vector2(p.x, p.y) });
                }
            }
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < columns; c++)
                {
                    int a = start + r * (columns + 1) + c;
                    int b = a + columns + 1;
                    Triangles[0].AddRange(new[] { a, b, a + 1, a + 1, b, b + 1 });
                }
            }
        }

        /// <summary>A flat elliptical disc lying on the face surface, facing +Z, <paramref name="lift"/> in front of it.</summary>
        private static void AddDisc(Feature feature, float side, Vector2 centre, Vector2 radii, float lift, int submesh, int segments)
        {
            int start = Vertices.Count;
            float z = SurfaceZ(centre.x, centre.y) + lift;
            Vertices.Add(new Vertex { Feature = feature, Side = side, Position = new Vector3(centre.x, centre.y, z), Local = Vector2.zero });
            for (int i = 0; i < segments; i++)
            {
                float a = 2f * Mathf.PI * i / segments;
                var local = new Vector2(Mathf.Cos(a), Mathf.Sin(a));
                var p = new Vector3(centre.x + local.x * radii.x, centre.y + local.y * radii.y, SurfaceZ(centre.x + local.x * radii.x, centre.y + local.y * radii.y) + lift);
                Vertices.Add(new Vertex { Feature = feature, Side = side, Position = p, Local = local });
            }
            for (int i = 0; i < segments; i++)
            {
                int next = (i + 1) % segments;
                Triangles[submesh].AddRange(new[] { start, start + 1 + i, start + 1 + next });
            }
        }

        private static float SideOf(string shape)
        {
            return shape.EndsWith("Left", StringComparison.Ordinal) ? -1f : shape.EndsWith("Right", StringComparison.Ordinal) ? 1f : 0f;
        }

        /// <summary>Smooth 1..0 falloff around a point of the face, for skin deformations.</summary>
        private static float Near(Vertex v, float x, float y, float radius)
        {
            if (v.Feature != Feature.Skin || v.Position.z < 0f)
            {
                return 0f;
            }
            float d = new Vector2(v.Position.x - x, v.Position.y - y).magnitude / radius;
            return d >= 1f ? 0f : (1f - d * d) * (1f - d * d);
        }

        private static Func<Vertex, Vector3> RuleFor(string shape)
        {
            float side = SideOf(shape);
            string kind = side == 0f ? shape : shape.Substring(0, shape.Length - (side < 0f ? 4 : 5));
            Func<Vertex, bool> onSide = v => side == 0f || v.Side == side;
            Func<Vertex, bool> eye = v => onSide(v) && (v.Feature == Feature.EyeWhite || v.Feature == Feature.Pupil);
            Func<Vertex, bool> pupil = v => onSide(v) && v.Feature == Feature.Pupil;
            Func<Vertex, bool> brow = v => onSide(v) && v.Feature == Feature.Brow;
            Func<Vertex, bool> mouthSide = v => v.Feature == Feature.Mouth && (side == 0f || v.Local.x * side > 0.3f);
            Func<Vertex, float> corner = v => v.Local.x * v.Local.x;
            float inward = -side;
            switch (kind)
            {
                case "eyeBlink":
                    return v => eye(v) ? new Vector3(0f, (v.Feature == Feature.Pupil ? -0.0075f : -0.012f) * v.Local.y, 0f) : Vector3.zero;
                case "eyeSquint":
                    return v => eye(v) ? new Vector3(0f, -0.006f * v.Local.y, 0f) : new Vector3(0f, 0.004f * Near(v, side * EyeX, EyeY - 0.02f, 0.02f), 0f);
                case "eyeWide":
                    return v => eye(v) && v.Feature == Feature.EyeWhite ? new Vector3(0f, 0.006f * v.Local.y, 0f) : brow(v) ? new Vector3(0f, 0.004f, 0f) : Vector3.zero;
                case "eyeLookUp":
                    return v => pupil(v) ? new Vector3(0f, 0.005f, 0f) : Vector3.zero;
                case "eyeLookDown":
                    return v => pupil(v) ? new Vector3(0f, -0.005f, 0f) : Vector3.zero;
                case "eyeLookIn":
                    return v => pupil(v) ? new Vector3(0.009f * inward, 0f, 0f) : Vector3.zero;
                case "eyeLookOut":
                    return v => pupil(v) ? new Vector3(-0.009f * inward, 0f, 0f) : Vector3.zero;
                case "jawOpen":
                    return v => v.Feature == Feature.Mouth && v.Local.y < 0f ? new Vector3(0f, 0.03f * v.Local.y - 0.004f, 0f)
                        : v.Feature == Feature.Tongue ? new Vector3(0f, -0.02f, 0f)
                        : new Vector3(0f, -0.025f * Near(v, 0f, -0.1f, 0.06f), 0f);
                case "jawForward":
                    return v => new Vector3(0f, 0f, 0.012f * (Near(v, 0f, -0.1f, 0.06f) + (v.Feature == Feature.Mouth && v.Local.y < 0f ? 1f : 0f)));
                case "jawLeft":
                case "jawRight":
                    return v => new Vector3((kind == "jawLeft" ? -1f : 1f) * 0.012f * (Near(v, 0f, -0.1f, 0.06f) + (v.Feature == Feature.Mouth && v.Local.y < 0f ? 1f : 0f)), 0f, 0f);
                case "mouthClose":
                    return v => v.Feature == Feature.Mouth ? new Vector3(0f, -0.8f * 0.004f * v.Local.y, 0f) : Vector3.zero;
                case "mouthFunnel":
                    return v => v.Feature == Feature.Mouth ? new Vector3(-0.012f * v.Local.x, 0.008f * v.Local.y, 0.005f) : Vector3.zero;
                case "mouthPucker":
                    return v => v.Feature == Feature.Mouth ? new Vector3(-0.018f * v.Local.x, 0f, 0.01f) : Vector3.zero;
                case "mouthLeft":
                case "mouthRight":
                    return v => v.Feature == Feature.Mouth ? new Vector3((kind == "mouthLeft" ? -1f : 1f) * 0.012f, 0f, 0f) : Vector3.zero;
                case "mouthSmile":
                    return v => mouthSide(v) ? new Vector3(0.004f * side, 0.014f * corner(v), 0f) : new Vector3(0f, 0.004f * Near(v, side * 0.045f, -0.03f, 0.03f), 0f);
                case "mouthFrown":
                    return v => mouthSide(v) ? new Vector3(0f, -0.012f * corner(v), 0f) : Vector3.zero;
                case "mouthDimple":
                    return v => mouthSide(v) ? new Vector3(0.006f * side * corner(v), 0f, -0.002f) : Vector3.zero;
                case "mouthStretch":
                    return v => mouthSide(v) ? new Vector3(0.01f * side * corner(v), -0.004f * corner(v), 0f) : Vector3.zero;
                case "mouthRollLower":
                    return v => v.Feature == Feature.Mouth && v.Local.y < 0f ? new Vector3(0f, -0.9f * 0.004f * v.Local.y, -0.002f) : Vector3.zero;
                case "mouthRollUpper":
                    return v => v.Feature == Feature.Mouth && v.Local.y > 0f ? new Vector3(0f, -0.9f * 0.004f * v.Local.y, -0.002f) : Vector3.zero;
                case "mouthShrugLower":
                    return v => v.Feature == Feature.Mouth && v.Local.y < 0f ? new Vector3(0f, 0.005f, 0.002f) : new Vector3(0f, 0.004f * Near(v, 0f, -0.085f, 0.03f), 0f);
                case "mouthShrugUpper":
                    return v => v.Feature == Feature.Mouth && v.Local.y > 0f ? new Vector3(0f, 0.004f, 0.002f) : Vector3.zero;
                case "mouthPress":
                    return v => mouthSide(v) ? new Vector3(0f, -0.8f * 0.004f * v.Local.y, 0f) : Vector3.zero;
                case "mouthLowerDown":
                    return v => mouthSide(v) && v.Local.y < 0f ? new Vector3(0f, -0.01f, 0f) : Vector3.zero;
                case "mouthUpperUp":
                    return v => mouthSide(v) && v.Local.y > 0f ? new Vector3(0f, 0.01f, 0f) : Vector3.zero;
                case "browDown":
                    return v => brow(v) ? new Vector3(0f, -0.008f, 0f) : Vector3.zero;
                case "browInnerUp":
                    return v => v.Feature == Feature.Brow && v.Local.x * v.Side < 0.3f ? new Vector3(0f, 0.01f * Mathf.Clamp01(0.6f - v.Local.x * v.Side), 0f) : Vector3.zero;
                case "browOuterUp":
                    return v => brow(v) && v.Local.x * side > -0.3f ? new Vector3(0f, 0.01f * Mathf.Clamp01(0.6f + v.Local.x * side), 0f) : Vector3.zero;
                case "cheekPuff":
                    return v => v.Position.normalized * (0.014f * (Near(v, -0.05f, -0.035f, 0.04f) + Near(v, 0.05f, -0.035f, 0.04f)));
                case "cheekSquint":
                    return v => new Vector3(0f, 0.006f * Near(v, side * 0.045f, -0.01f, 0.03f), 0f);
                case "noseSneer":
                    return v => new Vector3(0f, 0.005f * Near(v, side * 0.012f, -0.005f, 0.02f), 0f);
                case "tongueOut":
                    return v => v.Feature == Feature.Tongue ? new Vector3(0f, -0.012f, 0.02f) : Vector3.zero;
                default:
                    return v => Vector3.zero;
            }
        }
    }
}
