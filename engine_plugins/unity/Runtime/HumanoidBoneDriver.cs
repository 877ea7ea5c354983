using System;
using System.Collections.Generic;
using AvatarBridge.Protocol;
using UnityEngine;

namespace AvatarBridge
{
    /// <summary>
    /// Poses a humanoid Animator's bones from the received bone rotations (HumanBodyBones names,
    /// local rotations of a normalized T-pose rig). Received rotations are applied relative to a
    /// reference pose captured at Start with <see cref="RetargetMath"/>, which makes the same data
    /// correct on UniVRM-normalized rigs (rest rotations identity) and on ordinary FBX humanoids
    /// whose bones have arbitrary local axes. Runs late in LateUpdate, after the Animator, so it can
    /// layer tracking over a playing animation with <see cref="Weight"/>.
    /// </summary>
    [DefaultExecutionOrder(100)]
    [AddComponentMenu("Avatar Bridge/Humanoid Bone Driver")]
    public sealed class HumanoidBoneDriver : BridgeDriver
    {
        /// <summary>Which pose received rotations are relative to.</summary>
        public enum ReferencePose
        {
            /// <summary>The bones' pose when the driver starts (the avatar must be in its rest/T-pose then).</summary>
            PoseAtStart,

            /// <summary>
            /// The T-pose stored in the Animator's Avatar (from the model's rig import), for models
            /// whose scene pose is an A-pose; bones missing from it fall back to the pose at start.
            /// </summary>
            AvatarTPose,
        }

        [Tooltip("A humanoid Animator; defaults to the one on this GameObject or its children.")]
        [SerializeField] private Animator animator;

        [SerializeField] private ReferencePose referencePose = ReferencePose.PoseAtStart;

        [SerializeField] private bool driveHeadAndNeck = true;

        [Tooltip("Turn off when eyes are driven by a look-at system or by eye blendshapes instead of bones.")]
        [SerializeField] private bool driveEyes = true;

        [SerializeField] private bool driveBody = true;

        [SerializeField] private bool driveFingers = true;

        [Tooltip("Move the avatar by the received root position, relative to where it started and in its own facing.")]
        [SerializeField] private bool applyRootPosition = true;

        [SerializeField] private bool applyRootRotation = true;

        [SerializeField] private float rootPositionScale = 1f;

        private struct Bone
        {
            public Transform Transform;
            public Quat RestLocal;
            public Quat ParentRestInRoot;
            public Quat Target;
            public Quat Smoothed;
            public bool HasTarget;
            public bool Enabled;
        }

        private static Dictionary<string, int> boneIds;

        private Bone[] bones = new Bone[0];
        private bool captured;
        private Vector3 rootRestPosition;
        private Quaternion rootRestRotation;
        private Vec3 rootTargetPosition = Vec3.Zero;
        private Quat rootTargetRotation = Quat.Identity;
        private Vec3 rootPosition = Vec3.Zero;
        private Quat rootRotation = Quat.Identity;
        private bool hasRoot;

        public HumanoidBoneDriver()
            : base(0.05f)
        {
        }

        public Animator Animator
        {
            get { return animator; }
            set { animator = value; captured = false; }
        }

        /// <summary>Bones currently receiving rotations, with their smoothed received rotation (for the inspector).</summary>
        public void GetLiveRotations(List<KeyValuePair<HumanBodyBones, Quaternion>> into)
        {
            into.Clear();
            for (int i = 0; i < bones.Length; i++)
            {
                if (bones[i].HasTarget && bones[i].Transform != null)
                {
                    into.Add(new KeyValuePair<HumanBodyBones, Quaternion>((HumanBodyBones)i, bones[i].Smoothed.ToUnity()));
                }
            }
        }

        /// <summary>
        /// Records the reference pose. Called at Start; call again after swapping the avatar's
        /// model, with the avatar in its rest pose.
        /// </summary>
        public void CaptureReferencePose()
        {
            captured = false;
            if (animator == null || !animator.isHuman)
            {
                Debug.LogWarning("[Avatar Bridge] " + name + ": HumanoidBoneDriver needs an Animator with a humanoid Avatar; bones are not driven.", this);
                return;
            }
            Dictionary<string, Quaternion> tpose = referencePose == ReferencePose.AvatarTPose ? AvatarTPose(animator) : null;
            Transform root = animator.transform;
            bones = new Bone[(int)HumanBodyBones.LastBone];
            for (int i = 0; i < bones.Length; i++)
            {
                Transform t = animator.GetBoneTransform((HumanBodyBones)i);
                if (t == null)
                {
                    continue;
                }
                bones[i].Transform = t;
                bones[i].RestLocal = ReferenceLocal(t, tpose).ToWire();
                bones[i].ParentRestInRoot = ReferenceInRoot(t.parent, root, tpose).ToWire();
                bones[i].Target = bones[i].Smoothed = Quat.Identity;
                bones[i].Enabled = IsEnabled((HumanBodyBones)i);
            }
            rootRestPosition = root.localPosition;
            rootRestRotation = root.localRotation;
            captured = true;
        }

        private static Quaternion ReferenceLocal(Transform t, Dictionary<string, Quaternion> tpose)
        {
            Quaternion q;
            return tpose != null && tpose.TryGetValue(t.name, out q) ? q : t.localRotation;
        }

        /// <summary>Rotation of <paramref name="t"/> relative to the avatar root in the reference pose.</summary>
        private static Quaternion ReferenceInRoot(Transform t, Transform root, Dictionary<string, Quaternion> tpose)
        {
            Quaternion q = Quaternion.identity;
            for (Transform p = t; p != null && p != root; p = p.parent)
            {
                q = ReferenceLocal(p, tpose) * q;
            }
            return q;
        }

        private static Dictionary<string, Quaternion> AvatarTPose(Animator animator)
        {
            var d = new Dictionary<string, Quaternion>(StringComparer.Ordinal);
            Avatar avatar = animator.avatar;
            if (avatar == null)
            {
                return d;
            }
            SkeletonBone[] skeleton = avatar.humanDescription.skeleton;
            if (skeleton == null || skeleton.Length == 0)
            {
                Debug.LogWarning("[Avatar Bridge] The Avatar of " + animator.name + " stores no skeleton pose; using the pose at start instead.", animator);
                return d;
            }
            foreach (SkeletonBone b in skeleton)
            {
                if (!string.IsNullOrEmpty(b.name))
                {
                    d[b.name] = b.rotation;
                }
            }
            return d;
        }

        private bool IsEnabled(HumanBodyBones b)
        {
            switch (b)
            {
                case HumanBodyBones.Neck:
                case HumanBodyBones.Head:
                case HumanBodyBones.Jaw:
                    return driveHeadAndNeck;
                case HumanBodyBones.LeftEye:
                case HumanBodyBones.RightEye:
                    return driveEyes;
                default:
                    return b >= HumanBodyBones.LeftThumbProximal && b <= HumanBodyBones.RightLittleDistal ? driveFingers : driveBody;
            }
        }

        private static int BoneId(string name)
        {
            if (boneIds == null)
            {
                var ids = new Dictionary<string, int>(StringComparer.Ordinal);
                foreach (HumanBodyBones b in Enum.GetValues(typeof(HumanBodyBones)))
                {
                    if (b != HumanBodyBones.LastBone)
                    {
                        ids[b.ToString()] = (int)b;
                    }
                }
                boneIds = ids;
            }
            int id;
            return boneIds.TryGetValue(name, out id) ? id : -1;
        }

        protected override void Awake()
        {
            base.Awake();
            if (animator == null)
            {
                animator = GetComponentInChildren<Animator>();
            }
        }

        private void Start()
        {
            CaptureReferencePose();
        }

        private void OnValidate()
        {
            for (int i = 0; i < bones.Length; i++)
            {
                bones[i].Enabled = IsEnabled((HumanBodyBones)i);
            }
        }

        private void LateUpdate()
        {
            if (!captured || Receiver == null)
            {
                return;
            }
            FrameData frame;
            if (TryTakeNewFrame(out frame))
            {
                Receive(frame);
            }
            float k = SmoothingStep();
            float weight = Weight;
            bool animated = animator.enabled && animator.runtimeAnimatorController != null;
            for (int i = 0; i < bones.Length; i++)
            {
                if (!bones[i].HasTarget || !bones[i].Enabled || bones[i].Transform == null)
                {
                    continue;
                }
                bones[i].Smoothed = Quat.Slerp(bones[i].Smoothed, bones[i].Target, k);
                Quaternion driven = RetargetMath.ToBoneLocal(bones[i].Smoothed, bones[i].RestLocal, bones[i].ParentRestInRoot).ToUnity();
                Transform t = bones[i].Transform;
                Quaternion under = animated ? t.localRotation : bones[i].RestLocal.ToUnity();
                t.localRotation = weight >= 1f ? driven : Quaternion.Slerp(under, driven, weight);
            }
            if (hasRoot)
            {
                rootPosition = Vec3.Lerp(rootPosition, rootTargetPosition, k);
                rootRotation = Quat.Slerp(rootRotation, rootTargetRotation, k);
                Transform root = animator.transform;
                if (applyRootPosition)
                {
                    root.localPosition = rootRestPosition + rootRestRotation * (rootPosition.ToUnity() * (rootPositionScale * weight));
                }
                if (applyRootRotation)
                {
                    root.localRotation = rootRestRotation * Quaternion.Slerp(Quaternion.identity, rootRotation.ToUnity(), weight);
                }
            }
        }

        private void Receive(FrameData frame)
        {
            for (int b = 0; b < frame.BoneCount; b++)
            {
                int id = BoneId(frame.BoneNames[b]);
                if (id < 0 || bones[id].Transform == null)
                {
                    continue;
                }
                Quat q = Quat.Normalize(frame.BoneRotations[b]);
                if (!bones[id].HasTarget)
                {
                    bones[id].Smoothed = q;
                    bones[id].HasTarget = true;
                }
                bones[id].Target = q;
            }
            if (frame.HasRoot)
            {
                if (!hasRoot)
                {
                    rootPosition = frame.RootPosition;
                    rootRotation = Quat.Normalize(frame.RootRotation);
                    hasRoot = true;
                }
                rootTargetPosition = frame.RootPosition;
                rootTargetRotation = Quat.Normalize(frame.RootRotation);
            }
        }
    }
}
