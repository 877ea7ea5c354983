using System;

namespace AvatarBridge.Protocol
{
    /// <summary>
    /// Applies VMC/sidecar bone rotations to a real rig. Received rotations are local rotations of
    /// a normalized rig whose every bone, at rest, is aligned with the avatar root (identity in the
    /// T-pose, as UniVRM/EVMC4U normalize). A real rig's bones have arbitrary local axes and, for
    /// many FBX characters, a rest pose that is not a T-pose; writing the received rotation into
    /// localRotation would twist them. Instead the rotation is expressed in the root-aligned frame
    /// of the bone's parent at rest and applied on top of the bone's own rest rotation:
    /// <code>local = inverse(parentRest) * received * parentRest * restLocal</code>
    /// where parentRest is the parent's rest rotation relative to the avatar root. With every rest
    /// rotation identity (a VRM-normalized rig) this reduces to <c>local = received</c>; for any rig
    /// the bone's root-space rotation becomes <c>received * restInRoot</c>, exactly what the
    /// normalized rig would show.
    /// </summary>
    public static class RetargetMath
    {
        /// <param name="received">The wire rotation: local to the humanoid parent, normalized rig.</param>
        /// <param name="restLocal">The bone's localRotation in the reference pose.</param>
        /// <param name="parentRestInRoot">The bone's transform parent's rotation relative to the avatar root, in the reference pose.</param>
        public static Quat ToBoneLocal(Quat received, Quat restLocal, Quat parentRestInRoot)
        {
            Quat inParent = Quat.Multiply(Quat.Multiply(Quat.Inverse(parentRestInRoot), received), parentRestInRoot);
            return Quat.Normalize(Quat.Multiply(inParent, restLocal));
        }

        /// <summary>
        /// Per-update blend factor of an exponential smoother with time constant
        /// <paramref name="smoothingTime"/> seconds: frame-rate independent, 1 (no smoothing) at 0.
        /// </summary>
        public static float SmoothingFactor(float deltaTime, float smoothingTime)
        {
            if (smoothingTime <= 0f || deltaTime <= 0f)
            {
                return smoothingTime <= 0f ? 1f : 0f;
            }
            return 1f - (float)Math.Exp(-deltaTime / smoothingTime);
        }
    }
}
