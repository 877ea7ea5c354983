using System;

namespace AvatarBridge.Protocol
{
    /// <summary>
    /// A position in metres, in Unity's left-handed, Y-up frame (docs/conventions.md).
    /// Kept free of UnityEngine.Vector3 so the wire code compiles and is tested outside Unity.
    /// </summary>
    [Serializable]
    public struct Vec3
    {
        public float X;
        public float Y;
        public float Z;

        public Vec3(float x, float y, float z)
        {
            X = x;
            Y = y;
            Z = z;
        }

        public static readonly Vec3 Zero = new Vec3(0f, 0f, 0f);

        public static Vec3 Lerp(Vec3 a, Vec3 b, float t)
        {
            return new Vec3(a.X + (b.X - a.X) * t, a.Y + (b.Y - a.Y) * t, a.Z + (b.Z - a.Z) * t);
        }

        public override string ToString()
        {
            return string.Format(System.Globalization.CultureInfo.InvariantCulture, "({0}, {1}, {2})", X, Y, Z);
        }
    }

    /// <summary>
    /// A rotation quaternion (x, y, z, w) with Unity's multiplication order and handedness, so the
    /// values on the wire can be applied without conversion. The math lives here (not in
    /// UnityEngine.Quaternion) so the retargeting that drivers use is the code the Mono tests run.
    /// </summary>
    [Serializable]
    public struct Quat
    {
        public float X;
        public float Y;
        public float Z;
        public float W;

        public Quat(float x, float y, float z, float w)
        {
            X = x;
            Y = y;
            Z = z;
            W = w;
        }

        public static readonly Quat Identity = new Quat(0f, 0f, 0f, 1f);

        /// <summary>Hamilton product: rotating by <paramref name="b"/> first, then by <paramref name="a"/>, as Unity's a * b.</summary>
        public static Quat Multiply(Quat a, Quat b)
        {
            return new Quat(
                a.W * b.X + a.X * b.W + a.Y * b.Z - a.Z * b.Y,
                a.W * b.Y + a.Y * b.W + a.Z * b.X - a.X * b.Z,
                a.W * b.Z + a.Z * b.W + a.X * b.Y - a.Y * b.X,
                a.W * b.W - a.X * b.X - a.Y * b.Y - a.Z * b.Z);
        }

        /// <summary>Inverse of a unit quaternion (its conjugate).</summary>
        public static Quat Inverse(Quat q)
        {
            return new Quat(-q.X, -q.Y, -q.Z, q.W);
        }

        public static float Dot(Quat a, Quat b)
        {
            return a.X * b.X + a.Y * b.Y + a.Z * b.Z + a.W * b.W;
        }

        /// <summary>
        /// Unit length, or identity for a zero or non-finite input: a sender's bad quaternion must
        /// leave the bone at rest rather than collapse the mesh.
        /// </summary>
        public static Quat Normalize(Quat q)
        {
            float n = (float)Math.Sqrt(Dot(q, q));
            if (!(n > 1e-6f) || float.IsInfinity(n))
            {
                return Identity;
            }
            return new Quat(q.X / n, q.Y / n, q.Z / n, q.W / n);
        }

        /// <summary>Spherical interpolation along the shorter arc, clamped to t in [0, 1].</summary>
        public static Quat Slerp(Quat a, Quat b, float t)
        {
            if (t <= 0f)
            {
                return a;
            }
            if (t >= 1f)
            {
                return b;
            }
            float cos = Dot(a, b);
            if (cos < 0f)
            {
                b = new Quat(-b.X, -b.Y, -b.Z, -b.W);
                cos = -cos;
            }
            float wa;
            float wb;
            if (cos > 0.9995f)
            {
                wa = 1f - t;
                wb = t;
            }
            else
            {
                double angle = Math.Acos(cos);
                double sin = Math.Sin(angle);
                wa = (float)(Math.Sin((1.0 - t) * angle) / sin);
                wb = (float)(Math.Sin(t * angle) / sin);
            }
            return Normalize(new Quat(wa * a.X + wb * b.X, wa * a.Y + wb * b.Y, wa * a.Z + wb * b.Z, wa * a.W + wb * b.W));
        }

        /// <summary>Rotation of <paramref name="degrees"/> about a unit axis, with Unity's sign convention.</summary>
        public static Quat AngleAxis(float degrees, float ax, float ay, float az)
        {
            double half = degrees * Math.PI / 360.0;
            float s = (float)Math.Sin(half);
            return new Quat(ax * s, ay * s, az * s, (float)Math.Cos(half));
        }

        /// <summary>
        /// Angle in degrees between two rotations, ignoring the double cover (q and -q are equal).
        /// Uses atan2 of the relative rotation rather than acos of a dot product, which loses all
        /// precision for small angles in single precision.
        /// </summary>
        public static float AngleBetween(Quat a, Quat b)
        {
            Quat d = Multiply(Inverse(a), b);
            double v = Math.Sqrt((double)d.X * d.X + (double)d.Y * d.Y + (double)d.Z * d.Z);
            return (float)(2.0 * Math.Atan2(v, Math.Abs((double)d.W)) * 180.0 / Math.PI);
        }

        public override string ToString()
        {
            return string.Format(System.Globalization.CultureInfo.InvariantCulture, "({0}, {1}, {2}, {3})", X, Y, Z, W);
        }
    }
}
