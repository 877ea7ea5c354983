using System;
using System.Collections.Generic;

namespace AvatarBridge.Protocol
{
    /// <summary>Which stream a frame came from; some fields exist on only one of them.</summary>
    public enum FrameSource
    {
        None,
        Vmc,
        WebSocket,
    }

    /// <summary>
    /// A trigger from the frame's <c>events</c> array (WebSocket only: VMC has no address for them).
    /// Strings come from the decoder's <see cref="StringCache"/>, so repeated events allocate nothing.
    /// </summary>
    public struct BridgeEvent
    {
        /// <summary>"expression", "action", "gesture", ... (the only field the schema requires).</summary>
        public string Type;

        /// <summary>What happened, e.g. "happy" or "wave"; null when the sender gave none.</summary>
        public string Name;

        /// <summary>"start", "end", ... for events with a duration; null for one-shot actions.</summary>
        public string State;

        /// <summary>A 0..1 strength (from "value" or "probability"); NaN when the event carries none.</summary>
        public float Value;

        public bool HasValue
        {
            get { return !float.IsNaN(Value); }
        }

        public override string ToString()
        {
            return Type + ":" + (Name ?? "") + (State != null ? ":" + State : "") + (HasValue ? "=" + Value.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) : "");
        }
    }

    /// <summary>The WebSocket frame's <c>face</c> object.</summary>
    public struct FaceData
    {
        public bool Found;
        public float Presence;
        public Quat HeadRotation;
        public Vec3 HeadPosition;
        public Quat LeftEye;
        public Quat RightEye;

        /// <summary>Degrees: left pitch, left yaw, right pitch, right yaw (positive pitch looks down, positive yaw right).</summary>
        public float LeftPitch;
        public float LeftYaw;
        public float RightPitch;
        public float RightYaw;
    }

    /// <summary>
    /// Everything one tracking frame carries, from either transport, in plain arrays that are
    /// reused frame after frame (the receiver swaps whole FrameData buffers between threads).
    /// Counts, not array lengths, say how many entries are valid.
    /// </summary>
    public sealed class FrameData
    {
        private readonly Dictionary<string, int> blendIndex = new Dictionary<string, int>(128, StringComparer.Ordinal);
        private readonly Dictionary<string, int> boneIndex = new Dictionary<string, int>(64, StringComparer.Ordinal);

        public FrameSource Source;

        /// <summary>The sidecar's frame counter (WebSocket <c>seq</c>); VMC has none, so the decoder counts frames.</summary>
        public long Sequence;

        /// <summary>WebSocket <c>t</c>: capture time in Unix seconds. NaN when absent.</summary>
        public double CaptureTime;

        /// <summary>WebSocket <c>source_t</c>: seconds into the source. NaN when absent.</summary>
        public double SourceTime;

        /// <summary>VMC <c>/VMC/Ext/T</c>: sender uptime in seconds. NaN when absent.</summary>
        public float SenderTime;

        /// <summary>Whether <c>/VMC/Ext/OK</c> was received; its four fields follow.</summary>
        public bool HasStatus;
        public int Loaded;
        public int CalibrationState;
        public int CalibrationMode;

        /// <summary>1 while a face is tracked, 0 while lost; -1 when the sender did not say.</summary>
        public int TrackingStatus;

        public bool HasFace;
        public FaceData Face;

        public int BlendCount;
        public string[] BlendNames = new string[64];
        public float[] BlendValues = new float[64];

        public int BoneCount;
        public string[] BoneNames = new string[16];
        public Vec3[] BonePositions = new Vec3[16];
        public Quat[] BoneRotations = new Quat[16];

        public bool HasRoot;
        public Vec3 RootPosition;
        public Quat RootRotation;

        /// <summary>
        /// True once <c>/VMC/Ext/Blend/Apply</c> ended the frame, or a complete JSON frame held the
        /// person the decoder follows; false for a JSON frame without them (nothing to apply).
        /// </summary>
        public bool Applied;

        public int EventCount;
        public BridgeEvent[] Events = new BridgeEvent[4];

        public int TimingCount;
        public string[] TimingNames = new string[8];
        public float[] TimingValues = new float[8];

        /// <summary>
        /// The person this frame holds, the one the decoder follows (<see cref="WsMessageDecoder.FollowSlot"/>
        /// or <see cref="WsMessageDecoder.FollowName"/>): their WebSocket <c>people[].id</c>, stable
        /// through a run and never reused (0 in a one-person run, and for VMC, which does not say).
        /// </summary>
        public int PersonId;

        /// <summary>
        /// The person's slot, 1..4: which avatar and outputs they drive (a person who leaves and comes
        /// back keeps it); a schema 2 person has the slot of its place in the list. 0 for VMC, whose
        /// port says whose frames they are (the sidecar's base port + slot - 1).
        /// </summary>
        public int PersonSlot;

        /// <summary>
        /// The person's enrolled name, "unknown" for a face not enrolled, or null when the sidecar runs
        /// without face identity (and for VMC and schema 2). Interned: the same name is the same string.
        /// </summary>
        public string PersonName;

        /// <summary>How sure the sidecar is of <see cref="PersonName"/> (1 - face descriptor distance); NaN when it has not said.</summary>
        public float PersonSimilarity;

        /// <summary>
        /// The person's <c>[reactions]</c> VRChat avatar parameters (WebSocket <c>parameters</c>):
        /// names with their values, bools as 1 or 0 with <see cref="ParameterIsBool"/> set.
        /// </summary>
        public int ParameterCount;
        public string[] ParameterNames = new string[8];
        public float[] ParameterValues = new float[8];
        public bool[] ParameterIsBool = new bool[8];

        public FrameData()
        {
            Clear();
        }

        /// <summary>Forgets the previous frame without releasing its arrays.</summary>
        public void Clear()
        {
            Source = FrameSource.None;
            Sequence = 0;
            CaptureTime = double.NaN;
            SourceTime = double.NaN;
            SenderTime = float.NaN;
            HasStatus = false;
            Loaded = 0;
            CalibrationState = 0;
            CalibrationMode = 0;
            TrackingStatus = -1;
            Applied = false;
            TimingCount = 0;
            ClearPerson();
        }

        /// <summary>Forgets what belongs to the person (who they are, face, shapes, bones, root, events, parameters) and keeps the frame's header.</summary>
        public void ClearPerson()
        {
            PersonId = 0;
            PersonSlot = 0;
            PersonName = null;
            PersonSimilarity = float.NaN;
            HasFace = false;
            Face = default(FaceData);
            BlendCount = 0;
            BoneCount = 0;
            HasRoot = false;
            RootPosition = Vec3.Zero;
            RootRotation = Quat.Identity;
            EventCount = 0;
            ParameterCount = 0;
            blendIndex.Clear();
            boneIndex.Clear();
        }

        /// <summary>Sets a blendshape value, replacing an earlier value of the same name in this frame.</summary>
        public void SetBlend(string name, float value)
        {
            int i;
            if (!blendIndex.TryGetValue(name, out i))
            {
                i = BlendCount++;
                if (i == BlendNames.Length)
                {
                    Array.Resize(ref BlendNames, i * 2);
                    Array.Resize(ref BlendValues, i * 2);
                }
                BlendNames[i] = name;
                blendIndex.Add(name, i);
            }
            BlendValues[i] = value;
        }

        /// <summary>Sets a bone, replacing an earlier entry of the same name in this frame.</summary>
        public void SetBone(string name, Vec3 position, Quat rotation)
        {
            int i;
            if (!boneIndex.TryGetValue(name, out i))
            {
                i = BoneCount++;
                if (i == BoneNames.Length)
                {
                    Array.Resize(ref BoneNames, i * 2);
                    Array.Resize(ref BonePositions, i * 2);
                    Array.Resize(ref BoneRotations, i * 2);
                }
                BoneNames[i] = name;
                boneIndex.Add(name, i);
            }
            BonePositions[i] = position;
            BoneRotations[i] = rotation;
        }

        public void AddEvent(BridgeEvent e)
        {
            if (EventCount == Events.Length)
            {
                Array.Resize(ref Events, EventCount * 2);
            }
            Events[EventCount++] = e;
        }

        public void AddTiming(string name, float milliseconds)
        {
            if (TimingCount == TimingNames.Length)
            {
                Array.Resize(ref TimingNames, TimingCount * 2);
                Array.Resize(ref TimingValues, TimingCount * 2);
            }
            TimingNames[TimingCount] = name;
            TimingValues[TimingCount] = milliseconds;
            TimingCount++;
        }

        public void AddParameter(string name, float value, bool isBool)
        {
            if (ParameterCount == ParameterNames.Length)
            {
                Array.Resize(ref ParameterNames, ParameterCount * 2);
                Array.Resize(ref ParameterValues, ParameterCount * 2);
                Array.Resize(ref ParameterIsBool, ParameterCount * 2);
            }
            ParameterNames[ParameterCount] = name;
            ParameterValues[ParameterCount] = value;
            ParameterIsBool[ParameterCount] = isBool;
            ParameterCount++;
        }

        /// <summary>Index of a parameter by exact name, or -1.</summary>
        public int FindParameter(string name)
        {
            for (int i = 0; i < ParameterCount; i++)
            {
                if (string.Equals(ParameterNames[i], name, StringComparison.Ordinal))
                {
                    return i;
                }
            }
            return -1;
        }

        /// <summary>Index of a blendshape by exact name, or -1.</summary>
        public int FindBlend(string name)
        {
            int i;
            return blendIndex.TryGetValue(name, out i) ? i : -1;
        }

        /// <summary>Index of a bone by exact HumanBodyBones name, or -1.</summary>
        public int FindBone(string name)
        {
            int i;
            return boneIndex.TryGetValue(name, out i) ? i : -1;
        }
    }
}
