using System.Collections.Generic;
using System.Text;

namespace AvatarBridge.Protocol
{
    public enum WsMessageKind
    {
        Unknown,
        Hello,
        Frame,
        Reply,

        /// <summary>The camera preview sent after a <c>subscribe</c>; recognised and skipped (it is for the dashboard).</summary>
        Preview,
    }

    /// <summary>
    /// The server's <c>hello</c>: the channel names that the following frames' arrays are aligned
    /// with. Sent on connect and again whenever the lists change, so it is immutable and replaced
    /// as a whole (safe to hand across threads).
    /// </summary>
    public sealed class HelloData
    {
        public readonly int SchemaVersion;
        public readonly string Server;
        public readonly string Version;
        public readonly string[] BlendshapeNames;
        public readonly string[] BoneNames;
        public readonly bool Mirror;
        public readonly string[] Commands;

        /// <summary>How many people the sidecar tracks (hello <c>people.max</c>, schema 3); 0 when it does not say.</summary>
        public readonly int MaxPeople;

        public HelloData(int schemaVersion, string server, string version, string[] blendshapeNames, string[] boneNames, bool mirror, string[] commands,
            int maxPeople = 0)
        {
            SchemaVersion = schemaVersion;
            Server = server;
            Version = version;
            BlendshapeNames = blendshapeNames;
            BoneNames = boneNames;
            Mirror = mirror;
            Commands = commands;
            MaxPeople = maxPeople;
        }
    }

    /// <summary>The server's answer to a control message (calibrate, pause, ...).</summary>
    public sealed class ReplyData
    {
        /// <summary>The echoed id as text (integers are formatted), or null.</summary>
        public readonly string Id;
        public readonly string Command;
        public readonly bool Ok;
        public readonly string Message;

        public ReplyData(string id, string command, bool ok, string message)
        {
            Id = id;
            Command = command;
            Ok = ok;
            Message = message;
        }
    }

    /// <summary>
    /// Decodes the WebSocket JSON messages of schema versions 3 and 2 (bridge/protocols/frame.schema.json).
    /// A frame carries a list of <c>people</c> in slot order, each with a stable <c>id</c>, its
    /// <c>slot</c> and, while the sidecar runs face identity, its <c>name</c>. The decoder keeps the
    /// one it follows, the person named <see cref="FollowName"/> when that is set (wherever they
    /// stand) and else the one in <see cref="FollowSlot"/>, and skips the others; schema 2 persons have
    /// no slot or name keys and take the slot of their place in the list. Their bare value arrays
    /// are aligned with the last <c>hello</c>'s channel names, so the decoder keeps that hello.
    /// Unknown keys are skipped, so a newer sidecar that adds fields still works; wrong types, wrong
    /// array lengths and other schema versions (1 included) are rejected with an error instead of
    /// producing a half-valid frame. One instance per connection, one thread.
    /// </summary>
    public sealed class WsMessageDecoder
    {
        /// <summary>The newest schema this decoder reads; <see cref="OldestSchemaVersion"/> is the oldest.</summary>
        public const int SchemaVersion = 3;
        public const int OldestSchemaVersion = 2;

        /// <summary>The most people a sidecar tracks, so the highest slot.</summary>
        public const int MaxSlot = 4;
        public const int MaxChannels = 1024;
        public const int MaxEvents = 64;
        public const int MaxPeople = 64;

        private static readonly byte[] KType = Ascii("type");
        private static readonly byte[] KV = Ascii("v");
        private static readonly byte[] KHello = Ascii("hello");
        private static readonly byte[] KFrame = Ascii("frame");
        private static readonly byte[] KReply = Ascii("reply");
        private static readonly byte[] KPreview = Ascii("preview");
        private static readonly byte[] KServer = Ascii("server");
        private static readonly byte[] KVersion = Ascii("version");
        private static readonly byte[] KChannels = Ascii("channels");
        private static readonly byte[] KBlendshapes = Ascii("blendshapes");
        private static readonly byte[] KBones = Ascii("bones");
        private static readonly byte[] KMirror = Ascii("mirror");
        private static readonly byte[] KCommands = Ascii("commands");
        private static readonly byte[] KSeq = Ascii("seq");
        private static readonly byte[] KT = Ascii("t");
        private static readonly byte[] KSourceT = Ascii("source_t");
        private static readonly byte[] KFace = Ascii("face");
        private static readonly byte[] KFound = Ascii("found");
        private static readonly byte[] KPresence = Ascii("presence");
        private static readonly byte[] KHeadRot = Ascii("head_rot");
        private static readonly byte[] KHeadPos = Ascii("head_pos");
        private static readonly byte[] KEyeLeft = Ascii("eye_left");
        private static readonly byte[] KEyeRight = Ascii("eye_right");
        private static readonly byte[] KEyeAngles = Ascii("eye_angles");
        private static readonly byte[] KRot = Ascii("rot");
        private static readonly byte[] KPos = Ascii("pos");
        private static readonly byte[] KRoot = Ascii("root");
        private static readonly byte[] KEvents = Ascii("events");
        private static readonly byte[] KName = Ascii("name");
        private static readonly byte[] KState = Ascii("state");
        private static readonly byte[] KValue = Ascii("value");
        private static readonly byte[] KProbability = Ascii("probability");
        private static readonly byte[] KTimings = Ascii("timings_ms");
        private static readonly byte[] KId = Ascii("id");
        private static readonly byte[] KCommand = Ascii("command");
        private static readonly byte[] KOk = Ascii("ok");
        private static readonly byte[] KMessage = Ascii("message");
        private static readonly byte[] KPeople = Ascii("people");
        private static readonly byte[] KParameters = Ascii("parameters");
        private static readonly byte[] KSlot = Ascii("slot");
        private static readonly byte[] KSimilarity = Ascii("similarity");
        private static readonly byte[] KMax = Ascii("max");

        private readonly JsonReader reader = new JsonReader();
        private readonly StringCache names;
        private readonly List<string> helloBlendNames = new List<string>();
        private readonly List<string> helloBoneNames = new List<string>();
        private readonly List<string> helloCommands = new List<string>();
        private float[] blendValues = new float[64];
        private int blendCount;
        private Quat[] boneRotations = new Quat[16];
        private int boneRotationCount;
        private Vec3[] bonePositions = new Vec3[16];
        private int bonePositionCount;
        private readonly float[] four = new float[4];
        private bool sawBlend;
        private bool sawBoneRot;
        private bool sawBonePos;
        private volatile int followSlot = 1;
        private volatile string followName;
        private DecodeResult error;

        public WsMessageDecoder(StringCache names)
        {
            this.names = names;
        }

        /// <summary>The channel names in force (the last hello), or null before the first hello.</summary>
        public HelloData Hello { get; private set; }

        /// <summary>The last reply decoded, valid after <see cref="Decode"/> returned <see cref="WsMessageKind.Reply"/>.</summary>
        public ReplyData LastReply { get; private set; }

        /// <summary>
        /// The slot of the person to decode when <see cref="FollowName"/> is not set: 1 (the default)
        /// is the first person, the only one of a one-person run. May be changed from another thread;
        /// it applies from the next message.
        /// </summary>
        public int FollowSlot
        {
            get { return followSlot; }
            set { followSlot = value; }
        }

        /// <summary>
        /// When set (not null or empty), the decoder follows the person with this <c>name</c> wherever
        /// they are and ignores <see cref="FollowSlot"/>; a frame where nobody has the name holds
        /// nobody (nothing to apply), never someone else. Compared exactly (ordinal). May be changed
        /// from another thread; it applies from the next message.
        /// </summary>
        public string FollowName
        {
            get { return followName; }
            set { followName = string.IsNullOrEmpty(value) ? null : value; }
        }

        /// <summary>
        /// Decodes one message. A frame's followed person (<see cref="FollowName"/>, else
        /// <see cref="FollowSlot"/>) is written into <paramref name="frame"/> (which is cleared first and
        /// is only meaningful when the result is ok and the kind is Frame); when the frame does not
        /// hold them the result is still ok but <see cref="FrameData.Applied"/> stays false, so there
        /// is nothing to apply. A hello updates <see cref="Hello"/>; a reply sets <see cref="LastReply"/>.
        /// Never throws.
        /// </summary>
        public DecodeResult Decode(byte[] data, int offset, int length, FrameData frame, out WsMessageKind kind)
        {
            kind = WsMessageKind.Unknown;
            error = DecodeResult.Success;
            frame.Clear();
            blendCount = boneRotationCount = bonePositionCount = 0;
            sawBlend = sawBoneRot = sawBonePos = false;
            helloBlendNames.Clear();
            helloBoneNames.Clear();
            helloCommands.Clear();
            reader.Reset(data, offset, length);

            long version = -1;
            bool sawChannels = false, sawPeople = false, foundPerson = false;
            bool mirror = false, ok = false;
            int wantedSlot = followSlot;
            string wantedName = followName;
            int maxPeople = 0;
            string server = null, serverVersion = null, replyId = null, replyCommand = null, replyMessage = null;

            if (reader.Read() != JsonToken.BeginObject)
            {
                return reader.Token == JsonToken.Error ? reader.Error : Fail(ProtocolError.NotAnObject, "message is not a JSON object");
            }
            while (true)
            {
                JsonToken t = reader.Read();
                if (t == JsonToken.EndObject)
                {
                    break;
                }
                if (t != JsonToken.PropertyName)
                {
                    return reader.Error;
                }
                if (reader.ValueEquals(KType))
                {
                    if (reader.Read() != JsonToken.String)
                    {
                        return WrongType("'type' must be a string");
                    }
                    kind = reader.ValueEquals(KFrame) ? WsMessageKind.Frame
                        : reader.ValueEquals(KHello) ? WsMessageKind.Hello
                        : reader.ValueEquals(KReply) ? WsMessageKind.Reply
                        : reader.ValueEquals(KPreview) ? WsMessageKind.Preview
                        : WsMessageKind.Unknown;
                    if (kind == WsMessageKind.Unknown)
                    {
                        return Fail(ProtocolError.UnknownMessageType, "unknown message type (expected hello, frame, reply or preview)");
                    }
                }
                else if (reader.ValueEquals(KV))
                {
                    if (reader.Read() != JsonToken.Number || !reader.TryGetLong(out version))
                    {
                        return WrongType("'v' must be an integer");
                    }
                }
                else if (reader.ValueEquals(KSeq))
                {
                    double seq;
                    if (!ReadNumber(out seq))
                    {
                        return error;
                    }
                    frame.Sequence = (long)seq;
                }
                else if (reader.ValueEquals(KT))
                {
                    if (!ReadNumber(out frame.CaptureTime))
                    {
                        return error;
                    }
                }
                else if (reader.ValueEquals(KSourceT))
                {
                    if (!ReadNumber(out frame.SourceTime))
                    {
                        return error;
                    }
                }
                else if (reader.ValueEquals(KPeople))
                {
                    // A frame's people list, or the hello's {max, routes}.
                    JsonToken p = reader.Read();
                    if (p == JsonToken.BeginObject)
                    {
                        if (!ReadHelloPeople(out maxPeople))
                        {
                            return error;
                        }
                    }
                    else if (p != JsonToken.BeginArray)
                    {
                        return WrongType("'people' must be an array of objects (a frame's) or an object (a hello's)");
                    }
                    else
                    {
                        sawPeople = true;
                        if (!ReadPeople(frame, wantedSlot, wantedName, out foundPerson))
                        {
                            return error;
                        }
                    }
                }
                else if (reader.ValueEquals(KTimings))
                {
                    if (!ReadTimings(frame))
                    {
                        return error;
                    }
                }
                else if (reader.ValueEquals(KChannels))
                {
                    sawChannels = true;
                    if (!ReadChannels())
                    {
                        return error;
                    }
                }
                else if (reader.ValueEquals(KCommands))
                {
                    if (!ReadStringList(helloCommands))
                    {
                        return error;
                    }
                }
                else if (reader.ValueEquals(KMirror))
                {
                    if (!ReadBool(out mirror))
                    {
                        return error;
                    }
                }
                else if (reader.ValueEquals(KOk))
                {
                    if (!ReadBool(out ok))
                    {
                        return error;
                    }
                }
                else if (reader.ValueEquals(KServer))
                {
                    if (!ReadOptionalString(false, out server))
                    {
                        return error;
                    }
                }
                else if (reader.ValueEquals(KVersion))
                {
                    if (!ReadOptionalString(false, out serverVersion))
                    {
                        return error;
                    }
                }
                else if (reader.ValueEquals(KCommand))
                {
                    if (!ReadOptionalString(true, out replyCommand))
                    {
                        return error;
                    }
                }
                else if (reader.ValueEquals(KMessage))
                {
                    if (!ReadOptionalString(true, out replyMessage))
                    {
                        return error;
                    }
                }
                else if (reader.ValueEquals(KId))
                {
                    if (!ReadId(out replyId))
                    {
                        return error;
                    }
                }
                else if (!reader.SkipNextValue())
                {
                    return reader.Error;
                }
            }
            if (reader.Read() != JsonToken.EndOfInput)
            {
                return reader.Error;
            }
            if (kind == WsMessageKind.Unknown)
            {
                return Fail(ProtocolError.MissingType, "message has no 'type'");
            }
            if (version < OldestSchemaVersion || version > SchemaVersion)
            {
                return Fail(ProtocolError.UnsupportedVersion, "schema version 'v' is missing or not 2 or 3 (this package reads the people lists of schemas 2 and 3): update the package or the sidecar");
            }
            switch (kind)
            {
                case WsMessageKind.Hello:
                    if (!sawChannels)
                    {
                        return WrongType("hello without 'channels'");
                    }
                    Hello = new HelloData((int)version, server, serverVersion, helloBlendNames.ToArray(), helloBoneNames.ToArray(), mirror, helloCommands.ToArray(),
                        maxPeople);
                    return DecodeResult.Success;
                case WsMessageKind.Reply:
                    LastReply = new ReplyData(replyId, replyCommand, ok, replyMessage ?? "");
                    return DecodeResult.Success;
                case WsMessageKind.Preview:
                    return DecodeResult.Success;
                default:
                    return FinishFrame(frame, sawPeople, foundPerson);
            }
        }

        private DecodeResult FinishFrame(FrameData frame, bool sawPeople, bool foundPerson)
        {
            if (!sawPeople)
            {
                return Fail(ProtocolError.WrongValueType, "frame without a 'people' array");
            }
            HelloData hello = Hello;
            if (hello == null)
            {
                return Fail(ProtocolError.FrameBeforeHello, "frame received before any hello: its arrays have no channel names");
            }
            frame.Source = FrameSource.WebSocket;
            if (!foundPerson)
            {
                // Not an error: the person this receiver follows is not in this frame. Nothing to apply.
                frame.ClearPerson();
                return DecodeResult.Success;
            }
            if (sawBlend && blendCount != hello.BlendshapeNames.Length)
            {
                return Fail(ProtocolError.ChannelMismatch, "'blendshapes' length differs from hello.channels.blendshapes");
            }
            if ((sawBoneRot && boneRotationCount != hello.BoneNames.Length) || (sawBonePos && bonePositionCount != hello.BoneNames.Length))
            {
                return Fail(ProtocolError.ChannelMismatch, "'bones' length differs from hello.channels.bones");
            }
            for (int i = 0; i < blendCount; i++)
            {
                frame.SetBlend(hello.BlendshapeNames[i], blendValues[i]);
            }
            if (sawBoneRot)
            {
                for (int i = 0; i < boneRotationCount; i++)
                {
                    frame.SetBone(hello.BoneNames[i], sawBonePos ? bonePositions[i] : Vec3.Zero, boneRotations[i]);
                }
            }
            frame.Applied = true;
            return DecodeResult.Success;
        }

        /// <summary>
        /// Reads the <c>people</c> array (its '[' already read): persons are decoded in order until the
        /// one followed (named <paramref name="wantedName"/> when that is not null, else in slot
        /// <paramref name="wantedSlot"/>); the ones after it are skipped unread.
        /// </summary>
        private bool ReadPeople(FrameData frame, int wantedSlot, string wantedName, out bool found)
        {
            found = false;
            int count = 0;
            while (reader.Read() != JsonToken.EndArray)
            {
                if (reader.Token != JsonToken.BeginObject)
                {
                    return reader.Token == JsonToken.Error ? FailBool(reader.Error) : WrongTypeBool("each person must be an object");
                }
                if (++count > MaxPeople)
                {
                    return WrongTypeBool("more than 64 people in one frame");
                }
                if (found)
                {
                    if (!reader.Skip())
                    {
                        return FailBool(reader.Error);
                    }
                    continue;
                }
                if (!ReadPerson(frame, count, wantedSlot, wantedName, out found))
                {
                    return false;
                }
            }
            return reader.Token != JsonToken.Error || FailBool(reader.Error);
        }

        /// <summary>
        /// Reads one person object (its '{' already read), the <paramref name="position"/>-th of the
        /// list (1-based: the slot of a schema 2 person, which has no <c>slot</c>). Its values go into
        /// <paramref name="frame"/> and the decoder's scratch arrays; a person not followed is
        /// forgotten again, and as soon as its slot or name shows that, the rest of it is skipped.
        /// </summary>
        private bool ReadPerson(FrameData frame, int position, int wantedSlot, string wantedName, out bool match)
        {
            match = false;
            ForgetPerson(frame);
            bool byName = wantedName != null;
            long id = -1;
            int slot = position;
            string name = null;
            float similarity = float.NaN;
            bool other = false;
            while (NextProperty())
            {
                bool okValue;
                if (reader.ValueEquals(KId))
                {
                    if (reader.Read() != JsonToken.Number || !reader.TryGetLong(out id) || id < 0 || id > int.MaxValue)
                    {
                        return WrongTypeBool("a person's 'id' must be a non-negative integer");
                    }
                    okValue = true;
                }
                else if (reader.ValueEquals(KSlot))
                {
                    long n;
                    if (reader.Read() != JsonToken.Number || !reader.TryGetLong(out n) || n < 1 || n > MaxPeople)
                    {
                        return WrongTypeBool("a person's 'slot' must be an integer from 1");
                    }
                    slot = (int)n;
                    other = !byName && slot != wantedSlot;
                    okValue = true;
                }
                else if (reader.ValueEquals(KName))
                {
                    okValue = ReadCachedString(true, out name);
                    other = byName && !string.Equals(name, wantedName, System.StringComparison.Ordinal);
                }
                else if (reader.ValueEquals(KSimilarity))
                {
                    okValue = ReadOptionalNumber(out similarity);
                }
                else if (reader.ValueEquals(KFace))
                {
                    okValue = ReadFace(frame);
                }
                else if (reader.ValueEquals(KBlendshapes))
                {
                    sawBlend = true;
                    okValue = ReadFloats(ref blendValues, out blendCount);
                }
                else if (reader.ValueEquals(KBones))
                {
                    okValue = ReadBones(out sawBoneRot, out sawBonePos);
                }
                else if (reader.ValueEquals(KRoot))
                {
                    okValue = ReadRoot(frame);
                }
                else if (reader.ValueEquals(KEvents))
                {
                    okValue = ReadEvents(frame);
                }
                else if (reader.ValueEquals(KParameters))
                {
                    okValue = ReadParameters(frame);
                }
                else
                {
                    okValue = SkipValue();
                }
                if (!okValue)
                {
                    return false;
                }
                if (other)
                {
                    while (NextProperty())
                    {
                        if (!SkipValue())
                        {
                            return false;
                        }
                    }
                    break;
                }
            }
            if (!error.Ok)
            {
                return false;
            }
            // Decided here when the key that says it was absent: no slot (schema 2) is the place in the list, no name is nobody named.
            if (other || (byName ? !string.Equals(name, wantedName, System.StringComparison.Ordinal) : slot != wantedSlot))
            {
                ForgetPerson(frame);
                return true;
            }
            if (id < 0)
            {
                return WrongTypeBool("a person without an integer 'id'");
            }
            frame.PersonId = (int)id;
            frame.PersonSlot = slot;
            frame.PersonName = name;
            frame.PersonSimilarity = similarity;
            match = true;
            return true;
        }

        /// <summary>Reads the hello's <c>people</c> object (its '{' already read): <c>max</c>; the routes are for people, not for the decoder.</summary>
        private bool ReadHelloPeople(out int max)
        {
            max = 0;
            while (NextProperty())
            {
                if (reader.ValueEquals(KMax))
                {
                    long n;
                    if (reader.Read() != JsonToken.Number || !reader.TryGetLong(out n) || n < 1 || n > MaxPeople)
                    {
                        return WrongTypeBool("hello 'people.max' must be a positive integer");
                    }
                    max = (int)n;
                }
                else if (!SkipValue())
                {
                    return false;
                }
            }
            return error.Ok;
        }

        /// <summary>Drops what a person put into the frame and the scratch arrays.</summary>
        private void ForgetPerson(FrameData frame)
        {
            frame.ClearPerson();
            blendCount = boneRotationCount = bonePositionCount = 0;
            sawBlend = sawBoneRot = sawBonePos = false;
        }

        /// <summary>Reads a person's <c>parameters</c>: name -> true/false or a number.</summary>
        private bool ReadParameters(FrameData frame)
        {
            if (!BeginObject("'parameters' must be an object"))
            {
                return false;
            }
            while (NextProperty())
            {
                string name = reader.GetString(names);
                JsonToken t = reader.Read();
                float value;
                bool isBool = t == JsonToken.True || t == JsonToken.False;
                if (isBool)
                {
                    value = t == JsonToken.True ? 1f : 0f;
                }
                else if (t == JsonToken.Number)
                {
                    double v;
                    if (!reader.TryGetDouble(out v))
                    {
                        return FailBool(ProtocolError.BadNumber, "number out of range");
                    }
                    value = (float)v;
                }
                else
                {
                    return t == JsonToken.Error ? FailBool(reader.Error) : WrongTypeBool("a parameter must be true, false or a number");
                }
                if (frame.ParameterCount >= MaxChannels)
                {
                    return WrongTypeBool("more than 1024 parameters");
                }
                frame.AddParameter(name, value, isBool);
            }
            return error.Ok;
        }

        private bool ReadFace(FrameData frame)
        {
            if (!BeginObject("'face' must be an object"))
            {
                return false;
            }
            FaceData face = default(FaceData);
            face.HeadRotation = face.LeftEye = face.RightEye = Quat.Identity;
            while (NextProperty())
            {
                bool okValue;
                if (reader.ValueEquals(KFound))
                {
                    okValue = ReadBool(out face.Found);
                }
                else if (reader.ValueEquals(KPresence))
                {
                    double p;
                    okValue = ReadNumber(out p);
                    face.Presence = (float)p;
                }
                else if (reader.ValueEquals(KHeadRot))
                {
                    okValue = ReadQuat(out face.HeadRotation);
                }
                else if (reader.ValueEquals(KHeadPos))
                {
                    okValue = ReadVec3(out face.HeadPosition);
                }
                else if (reader.ValueEquals(KEyeLeft))
                {
                    okValue = ReadQuat(out face.LeftEye);
                }
                else if (reader.ValueEquals(KEyeRight))
                {
                    okValue = ReadQuat(out face.RightEye);
                }
                else if (reader.ValueEquals(KEyeAngles))
                {
                    okValue = ReadFixed(4, "'eye_angles' must hold 4 numbers");
                    face.LeftPitch = four[0];
                    face.LeftYaw = four[1];
                    face.RightPitch = four[2];
                    face.RightYaw = four[3];
                }
                else
                {
                    okValue = SkipValue();
                }
                if (!okValue)
                {
                    return false;
                }
            }
            frame.HasFace = true;
            frame.Face = face;
            return error.Ok;
        }

        private bool ReadBones(out bool sawRot, out bool sawPos)
        {
            sawRot = sawPos = false;
            if (!BeginObject("'bones' must be an object"))
            {
                return false;
            }
            while (NextProperty())
            {
                bool isRot = reader.ValueEquals(KRot);
                bool isPos = !isRot && reader.ValueEquals(KPos);
                if (!isRot && !isPos)
                {
                    if (!SkipValue())
                    {
                        return false;
                    }
                    continue;
                }
                if (reader.Read() != JsonToken.BeginArray)
                {
                    return WrongTypeBool("'bones.rot' and 'bones.pos' must be arrays");
                }
                int n = 0;
                while (reader.Read() != JsonToken.EndArray)
                {
                    if (reader.Token != JsonToken.BeginArray)
                    {
                        return WrongTypeBool("bone entries must be arrays of numbers");
                    }
                    if (n >= MaxChannels)
                    {
                        return FailBool(ProtocolError.TooManyBones, "more than 1024 bones");
                    }
                    if (!ReadFixedAfterBegin(isRot ? 4 : 3, isRot ? "bone rotations must hold 4 numbers" : "bone positions must hold 3 numbers"))
                    {
                        return false;
                    }
                    if (isRot)
                    {
                        if (n == boneRotations.Length)
                        {
                            System.Array.Resize(ref boneRotations, n * 2);
                        }
                        boneRotations[n++] = new Quat(four[0], four[1], four[2], four[3]);
                    }
                    else
                    {
                        if (n == bonePositions.Length)
                        {
                            System.Array.Resize(ref bonePositions, n * 2);
                        }
                        bonePositions[n++] = new Vec3(four[0], four[1], four[2]);
                    }
                }
                if (reader.Token == JsonToken.Error)
                {
                    return FailBool(reader.Error);
                }
                if (isRot)
                {
                    sawRot = true;
                    boneRotationCount = n;
                }
                else
                {
                    sawPos = true;
                    bonePositionCount = n;
                }
            }
            return error.Ok;
        }

        private bool ReadRoot(FrameData frame)
        {
            if (!BeginObject("'root' must be an object"))
            {
                return false;
            }
            while (NextProperty())
            {
                bool okValue;
                if (reader.ValueEquals(KPos))
                {
                    okValue = ReadVec3(out frame.RootPosition);
                    frame.HasRoot = true;
                }
                else if (reader.ValueEquals(KRot))
                {
                    okValue = ReadQuat(out frame.RootRotation);
                    frame.HasRoot = true;
                }
                else
                {
                    okValue = SkipValue();
                }
                if (!okValue)
                {
                    return false;
                }
            }
            return error.Ok;
        }

        private bool ReadEvents(FrameData frame)
        {
            if (reader.Read() != JsonToken.BeginArray)
            {
                return WrongTypeBool("'events' must be an array");
            }
            while (reader.Read() != JsonToken.EndArray)
            {
                if (reader.Token != JsonToken.BeginObject)
                {
                    return reader.Token == JsonToken.Error ? FailBool(reader.Error) : WrongTypeBool("each event must be an object");
                }
                if (frame.EventCount >= MaxEvents)
                {
                    return WrongTypeBool("more than 64 events in one frame");
                }
                BridgeEvent e = default(BridgeEvent);
                e.Value = float.NaN;
                while (NextProperty())
                {
                    bool okValue;
                    if (reader.ValueEquals(KType))
                    {
                        okValue = ReadCachedString(false, out e.Type);
                    }
                    else if (reader.ValueEquals(KName))
                    {
                        okValue = ReadCachedString(true, out e.Name);
                    }
                    else if (reader.ValueEquals(KState))
                    {
                        okValue = ReadCachedString(true, out e.State);
                    }
                    else if (reader.ValueEquals(KValue) || reader.ValueEquals(KProbability))
                    {
                        double v;
                        okValue = ReadNumber(out v);
                        e.Value = (float)v;
                    }
                    else
                    {
                        okValue = SkipValue();
                    }
                    if (!okValue)
                    {
                        return false;
                    }
                }
                if (!error.Ok)
                {
                    return false;
                }
                if (e.Type == null)
                {
                    return WrongTypeBool("event without a string 'type'");
                }
                frame.AddEvent(e);
            }
            return reader.Token != JsonToken.Error || FailBool(reader.Error);
        }

        private bool ReadTimings(FrameData frame)
        {
            if (!BeginObject("'timings_ms' must be an object"))
            {
                return false;
            }
            while (NextProperty())
            {
                string name = reader.GetString(names);
                double ms;
                if (!ReadNumber(out ms))
                {
                    return false;
                }
                if (frame.TimingCount < MaxEvents)
                {
                    frame.AddTiming(name, (float)ms);
                }
            }
            return error.Ok;
        }

        private bool ReadChannels()
        {
            if (!BeginObject("'channels' must be an object"))
            {
                return false;
            }
            while (NextProperty())
            {
                bool okValue;
                if (reader.ValueEquals(KBlendshapes))
                {
                    okValue = ReadStringList(helloBlendNames);
                }
                else if (reader.ValueEquals(KBones))
                {
                    okValue = ReadStringList(helloBoneNames);
                }
                else
                {
                    okValue = SkipValue();
                }
                if (!okValue)
                {
                    return false;
                }
            }
            return error.Ok;
        }

        private bool ReadStringList(List<string> into)
        {
            if (reader.Read() != JsonToken.BeginArray)
            {
                return WrongTypeBool("expected an array of strings");
            }
            while (reader.Read() == JsonToken.String)
            {
                if (into.Count >= MaxChannels)
                {
                    return FailBool(ProtocolError.ChannelMismatch, "more than 1024 names in one list");
                }
                into.Add(reader.GetString(names));
            }
            if (reader.Token != JsonToken.EndArray)
            {
                return reader.Token == JsonToken.Error ? FailBool(reader.Error) : WrongTypeBool("expected an array of strings");
            }
            return true;
        }

        private bool ReadFloats(ref float[] into, out int count)
        {
            count = 0;
            if (reader.Read() != JsonToken.BeginArray)
            {
                return WrongTypeBool("'blendshapes' must be an array of numbers");
            }
            while (reader.Read() == JsonToken.Number)
            {
                if (count >= MaxChannels)
                {
                    return FailBool(ProtocolError.TooManyBlendshapes, "more than 1024 blendshapes");
                }
                double v;
                if (!reader.TryGetDouble(out v))
                {
                    return FailBool(ProtocolError.BadNumber, "number out of range");
                }
                if (count == into.Length)
                {
                    System.Array.Resize(ref into, count * 2);
                }
                into[count++] = (float)v;
            }
            if (reader.Token != JsonToken.EndArray)
            {
                return reader.Token == JsonToken.Error ? FailBool(reader.Error) : WrongTypeBool("'blendshapes' must be an array of numbers");
            }
            return true;
        }

        private bool ReadQuat(out Quat q)
        {
            q = Quat.Identity;
            if (!ReadFixed(4, "a rotation must be an array of 4 numbers"))
            {
                return false;
            }
            q = new Quat(four[0], four[1], four[2], four[3]);
            return true;
        }

        private bool ReadVec3(out Vec3 v)
        {
            v = Vec3.Zero;
            if (!ReadFixed(3, "a position must be an array of 3 numbers"))
            {
                return false;
            }
            v = new Vec3(four[0], four[1], four[2]);
            return true;
        }

        /// <summary>Reads an array of exactly n numbers into the shared <c>four</c> buffer.</summary>
        private bool ReadFixed(int n, string detail)
        {
            if (reader.Read() != JsonToken.BeginArray)
            {
                return WrongTypeBool(detail);
            }
            return ReadFixedAfterBegin(n, detail);
        }

        private bool ReadFixedAfterBegin(int n, string detail)
        {
            int i = 0;
            while (reader.Read() == JsonToken.Number)
            {
                double v;
                if (i >= n || !reader.TryGetDouble(out v))
                {
                    return WrongTypeBool(detail);
                }
                four[i++] = (float)v;
            }
            if (reader.Token != JsonToken.EndArray || i != n)
            {
                return reader.Token == JsonToken.Error ? FailBool(reader.Error) : WrongTypeBool(detail);
            }
            return true;
        }

        private bool ReadNumber(out double value)
        {
            value = 0;
            if (reader.Read() != JsonToken.Number)
            {
                return reader.Token == JsonToken.Error ? FailBool(reader.Error) : WrongTypeBool("expected a number");
            }
            if (!reader.TryGetDouble(out value))
            {
                return FailBool(ProtocolError.BadNumber, "number out of range");
            }
            return true;
        }

        /// <summary>A number, or null (then NaN).</summary>
        private bool ReadOptionalNumber(out float value)
        {
            value = float.NaN;
            JsonToken t = reader.Read();
            if (t == JsonToken.Null)
            {
                return true;
            }
            double v;
            if (t != JsonToken.Number)
            {
                return t == JsonToken.Error ? FailBool(reader.Error) : WrongTypeBool("expected a number or null");
            }
            if (!reader.TryGetDouble(out v))
            {
                return FailBool(ProtocolError.BadNumber, "number out of range");
            }
            value = (float)v;
            return true;
        }

        private bool ReadBool(out bool value)
        {
            value = false;
            JsonToken t = reader.Read();
            if (t == JsonToken.True || t == JsonToken.False)
            {
                value = t == JsonToken.True;
                return true;
            }
            return t == JsonToken.Error ? FailBool(reader.Error) : WrongTypeBool("expected true or false");
        }

        private bool ReadOptionalString(bool allowNull, out string value)
        {
            value = null;
            JsonToken t = reader.Read();
            if (t == JsonToken.String)
            {
                value = reader.GetStringCopy();
                return true;
            }
            if (t == JsonToken.Null && allowNull)
            {
                return true;
            }
            return t == JsonToken.Error ? FailBool(reader.Error) : WrongTypeBool("expected a string");
        }

        private bool ReadCachedString(bool allowNull, out string value)
        {
            value = null;
            JsonToken t = reader.Read();
            if (t == JsonToken.String)
            {
                value = reader.GetString(names);
                return true;
            }
            if (t == JsonToken.Null && allowNull)
            {
                return true;
            }
            return t == JsonToken.Error ? FailBool(reader.Error) : WrongTypeBool("expected a string");
        }

        private bool ReadId(out string id)
        {
            id = null;
            JsonToken t = reader.Read();
            long n;
            if (t == JsonToken.String)
            {
                id = reader.GetStringCopy();
                return true;
            }
            if (t == JsonToken.Number && reader.TryGetLong(out n))
            {
                id = n.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return true;
            }
            if (t == JsonToken.Null)
            {
                return true;
            }
            return t == JsonToken.Error ? FailBool(reader.Error) : WrongTypeBool("'id' must be a string, an integer or null");
        }

        private bool BeginObject(string detail)
        {
            JsonToken t = reader.Read();
            if (t == JsonToken.BeginObject)
            {
                return true;
            }
            return t == JsonToken.Error ? FailBool(reader.Error) : WrongTypeBool(detail);
        }

        /// <summary>Moves to the next property of the current object; false at its end or on an error (then <c>error</c> is set).</summary>
        private bool NextProperty()
        {
            JsonToken t = reader.Read();
            if (t == JsonToken.PropertyName)
            {
                return true;
            }
            if (t != JsonToken.EndObject)
            {
                FailBool(reader.Error);
            }
            return false;
        }

        private bool SkipValue()
        {
            return reader.SkipNextValue() || FailBool(reader.Error);
        }

        private DecodeResult Fail(ProtocolError kind, string detail)
        {
            error = DecodeResult.Fail(kind, detail, 0);
            return error;
        }

        private DecodeResult WrongType(string detail)
        {
            return reader.Token == JsonToken.Error ? reader.Error : Fail(ProtocolError.WrongValueType, detail);
        }

        private bool WrongTypeBool(string detail)
        {
            WrongType(detail);
            if (reader.Token == JsonToken.Error)
            {
                error = reader.Error;
            }
            return false;
        }

        private bool FailBool(ProtocolError kind, string detail)
        {
            Fail(kind, detail);
            return false;
        }

        private bool FailBool(DecodeResult result)
        {
            error = result;
            return false;
        }

        private static byte[] Ascii(string s)
        {
            return Encoding.ASCII.GetBytes(s);
        }
    }
}
