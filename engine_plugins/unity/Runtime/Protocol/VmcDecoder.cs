using System.Text;

namespace AvatarBridge.Protocol
{
    /// <summary>
    /// Turns the OSC messages of the VMC protocol (docs/wire-formats.md) into <see cref="FrameData"/>.
    /// A VMC frame spans several datagrams (52 blendshapes do not fit in one MTU) and ends with
    /// <c>/VMC/Ext/Blend/Apply</c>, so the decoder accumulates into one frame across packets and
    /// reports completion when Apply arrives. Addresses it does not use (cameras, trackers, ...) are
    /// ignored so other VMC senders work too. Bone positions are kept in the frame but drivers use
    /// only rotations: the sidecar sends zeros there, and VMC receivers conventionally ignore them.
    /// </summary>
    public sealed class VmcDecoder
    {
        /// <summary>Caps on names per frame so a hostile sender cannot grow the frame without bound.</summary>
        public const int MaxBlendshapes = 1024;
        public const int MaxBones = 256;

        private static readonly byte[] OkAddress = Ascii("/VMC/Ext/OK");
        private static readonly byte[] TimeAddress = Ascii("/VMC/Ext/T");
        private static readonly byte[] RootAddress = Ascii("/VMC/Ext/Root/Pos");
        private static readonly byte[] BoneAddress = Ascii("/VMC/Ext/Bone/Pos");
        private static readonly byte[] BlendAddress = Ascii("/VMC/Ext/Blend/Val");
        private static readonly byte[] ApplyAddress = Ascii("/VMC/Ext/Blend/Apply");

        private readonly StringCache names;
        private long framesCompleted;

        public VmcDecoder(StringCache names)
        {
            this.names = names;
        }

        /// <summary>
        /// Decodes messages from <paramref name="messageIndex"/> on into <paramref name="frame"/>.
        /// Stops right after an Apply message, with <paramref name="complete"/> true and
        /// <paramref name="messageIndex"/> at the next message, so the caller can publish the frame
        /// and continue with a fresh one. A message with wrong arguments is skipped and reported
        /// (the first such error is returned) while the rest of the packet is still used.
        /// </summary>
        public DecodeResult Decode(OscParser packet, ref int messageIndex, FrameData frame, out bool complete)
        {
            complete = false;
            DecodeResult result = DecodeResult.Success;
            frame.Source = FrameSource.Vmc;
            while (messageIndex < packet.Count)
            {
                OscMessage m = packet[messageIndex++];
                DecodeResult r = DecodeMessage(m, frame, out complete);
                if (!r.Ok && result.Ok)
                {
                    result = r;
                }
                if (complete)
                {
                    frame.Applied = true;
                    frame.Sequence = ++framesCompleted;
                    break;
                }
            }
            return result;
        }

        private DecodeResult DecodeMessage(OscMessage m, FrameData frame, out bool apply)
        {
            apply = false;
            if (m.AddressEquals(BlendAddress))
            {
                string name;
                float value;
                if (m.ArgumentCount != 2 || !m.TryGetString(0, names, out name) || !m.TryGetFloat(1, out value))
                {
                    return Bad("/VMC/Ext/Blend/Val expects (s name, f value)");
                }
                if (frame.BlendCount >= MaxBlendshapes && frame.FindBlend(name) < 0)
                {
                    return DecodeResult.Fail(ProtocolError.TooManyBlendshapes, "more than 1024 blendshape names in one frame", 0);
                }
                frame.SetBlend(name, value);
                return DecodeResult.Success;
            }
            if (m.AddressEquals(BoneAddress))
            {
                string name;
                Vec3 pos;
                Quat rot;
                if (!ReadTransform(m, out name, out pos, out rot))
                {
                    return Bad("/VMC/Ext/Bone/Pos expects (s name, f px py pz, f qx qy qz qw)");
                }
                if (frame.BoneCount >= MaxBones && frame.FindBone(name) < 0)
                {
                    return DecodeResult.Fail(ProtocolError.TooManyBones, "more than 256 bone names in one frame", 0);
                }
                frame.SetBone(name, pos, rot);
                return DecodeResult.Success;
            }
            if (m.AddressEquals(ApplyAddress))
            {
                apply = true;
                return DecodeResult.Success;
            }
            if (m.AddressEquals(RootAddress))
            {
                string name;
                Vec3 pos;
                Quat rot;
                if (!ReadTransform(m, out name, out pos, out rot))
                {
                    return Bad("/VMC/Ext/Root/Pos expects (s name, f px py pz, f qx qy qz qw)");
                }
                frame.HasRoot = true;
                frame.RootPosition = pos;
                frame.RootRotation = rot;
                return DecodeResult.Success;
            }
            if (m.AddressEquals(OkAddress))
            {
                return DecodeStatus(m, frame);
            }
            if (m.AddressEquals(TimeAddress))
            {
                float t;
                if (m.ArgumentCount < 1 || !m.TryGetFloat(0, out t))
                {
                    return Bad("/VMC/Ext/T expects (f seconds)");
                }
                frame.SenderTime = t;
            }
            return DecodeResult.Success;
        }

        /// <summary>
        /// /VMC/Ext/OK has grown over VMC versions from (loaded) to (loaded, calibration state,
        /// calibration mode, tracking status); every prefix of that list is accepted.
        /// </summary>
        private static DecodeResult DecodeStatus(OscMessage m, FrameData frame)
        {
            int n = m.ArgumentCount;
            int loaded = 0;
            int state = 0;
            int mode = 0;
            int tracking = -1;
            if (n < 1 || n > 4 || !m.TryGetInt(0, out loaded)
                || (n >= 2 && !m.TryGetInt(1, out state))
                || (n >= 3 && !m.TryGetInt(2, out mode))
                || (n >= 4 && !m.TryGetInt(3, out tracking)))
            {
                return Bad("/VMC/Ext/OK expects 1 to 4 int arguments");
            }
            frame.HasStatus = true;
            frame.Loaded = loaded;
            frame.CalibrationState = state;
            frame.CalibrationMode = mode;
            frame.TrackingStatus = tracking;
            return DecodeResult.Success;
        }

        /// <summary>Reads (s name, 7 floats); VMC 2.1 senders may append scale/offset floats, which are ignored.</summary>
        private bool ReadTransform(OscMessage m, out string name, out Vec3 pos, out Quat rot)
        {
            pos = Vec3.Zero;
            rot = Quat.Identity;
            name = null;
            if (m.ArgumentCount < 8 || !m.TryGetString(0, names, out name))
            {
                return false;
            }
            float px, py, pz, qx, qy, qz, qw;
            if (!m.TryGetFloat(1, out px) || !m.TryGetFloat(2, out py) || !m.TryGetFloat(3, out pz)
                || !m.TryGetFloat(4, out qx) || !m.TryGetFloat(5, out qy) || !m.TryGetFloat(6, out qz) || !m.TryGetFloat(7, out qw))
            {
                return false;
            }
            pos = new Vec3(px, py, pz);
            rot = new Quat(qx, qy, qz, qw);
            return true;
        }

        private static DecodeResult Bad(string detail)
        {
            return DecodeResult.Fail(ProtocolError.BadVmcArguments, detail, 0);
        }

        private static byte[] Ascii(string s)
        {
            return Encoding.ASCII.GetBytes(s);
        }
    }
}
