using AvatarBridge.Protocol;
using UnityEngine;

namespace AvatarBridge
{
    /// <summary>
    /// Wire types to Unity types. The sidecar already sends Unity's left-handed, Y-up frame with
    /// (x, y, z, w) quaternions (docs/conventions.md), so these are plain copies: no axis flips.
    /// </summary>
    public static class UnityConversions
    {
        public static Quaternion ToUnity(this Quat q)
        {
            return new Quaternion(q.X, q.Y, q.Z, q.W);
        }

        public static Vector3 ToUnity(this Vec3 v)
        {
            return new Vector3(v.X, v.Y, v.Z);
        }

        public static Quat ToWire(this Quaternion q)
        {
            return new Quat(q.x, q.y, q.z, q.w);
        }
    }
}
