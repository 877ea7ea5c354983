using AvatarBridge.Protocol;
using UnityEngine;

namespace AvatarBridge
{
    /// <summary>
    /// What every driver shares: the receiver it follows (the scene's one unless set), an overall
    /// weight, a smoothing time, and taking each received frame once. Subclasses keep only what
    /// they drive. The serialized names (receiver, weight, smoothingTime) are the ones the drivers
    /// always had, so scenes and prefabs keep their values.
    /// </summary>
    public abstract class BridgeDriver : MonoBehaviour
    {
        [Tooltip("Leave empty to use the receiver found in the scene.")]
        [SerializeField] private AvatarBridgeReceiver receiver;

        [Tooltip("Overall strength: 0 leaves the avatar as it is, 1 applies the received values fully.")]
        [Range(0f, 1f)]
        [SerializeField] private float weight = 1f;

        [Tooltip("Seconds to approach a newly received value (exponential smoothing); 0 applies values immediately.")]
        [Range(0f, 1f)]
        [SerializeField] private float smoothingTime;

        private int seenVersion = -1;

        /// <summary>Each driver has its own default smoothing: faces react faster than animator floats.</summary>
        protected BridgeDriver(float defaultSmoothingTime)
        {
            smoothingTime = defaultSmoothingTime;
        }

        public AvatarBridgeReceiver Receiver
        {
            get { return receiver; }
            set { receiver = value; OnReceiverChanged(); }
        }

        public float Weight
        {
            get { return weight; }
            set { weight = Mathf.Clamp01(value); }
        }

        public float SmoothingTime
        {
            get { return smoothingTime; }
            set { smoothingTime = Mathf.Max(0f, value); }
        }

        /// <summary>Finds the scene's receiver when none is set; overrides call this first.</summary>
        protected virtual void Awake()
        {
            if (receiver == null)
            {
                receiver = SceneObjects.FindAny<AvatarBridgeReceiver>();
            }
        }

        /// <summary>Called after <see cref="Receiver"/> is assigned, for drivers that subscribe to its events.</summary>
        protected virtual void OnReceiverChanged()
        {
        }

        /// <summary>The receiver's latest frame when it has not been taken by this driver yet.</summary>
        protected bool TryTakeNewFrame(out FrameData frame)
        {
            frame = receiver != null ? receiver.LatestFrame : null;
            if (frame == null || receiver.FrameVersion == seenVersion)
            {
                frame = null;
                return false;
            }
            seenVersion = receiver.FrameVersion;
            return true;
        }

        /// <summary>Makes the next <see cref="TryTakeNewFrame"/> return the current frame again (after a rebind).</summary>
        protected void RetakeFrame()
        {
            seenVersion = -1;
        }

        /// <summary>This Update's step towards the targets, from <see cref="SmoothingTime"/> and the frame time.</summary>
        protected float SmoothingStep()
        {
            return RetargetMath.SmoothingFactor(Time.deltaTime, smoothingTime);
        }
    }
}
