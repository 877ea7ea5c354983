namespace AvatarBridge.Protocol
{
    /// <summary>
    /// Why a packet or message was rejected. Decoders return these instead of throwing, because a
    /// stream of bad packets must cost a counter increment, not an exception per frame; the
    /// receiver logs each kind once.
    /// </summary>
    public enum ProtocolError
    {
        None = 0,

        // OSC framing
        Empty,
        Truncated,
        NotFourByteAligned,
        BadBundleHeader,
        BadBundleElement,
        BundleTooDeep,
        BadAddress,
        UnterminatedString,
        MissingTypeTags,
        UnsupportedTypeTag,
        TrailingBytes,
        TooManyMessages,

        // VMC semantics
        BadVmcArguments,
        TooManyBlendshapes,
        TooManyBones,

        // JSON syntax
        InvalidJson,
        JsonTooDeep,
        BadNumber,
        BadString,

        // WebSocket message semantics
        NotAnObject,
        MissingType,
        UnsupportedVersion,
        UnknownMessageType,
        WrongValueType,
        FrameBeforeHello,
        ChannelMismatch,
        MessageTooLarge,
        BinaryMessage,
    }

    /// <summary>
    /// Outcome of decoding one packet or message. <see cref="Detail"/> is a constant string (no
    /// allocation on the error path) and <see cref="Position"/> the byte offset where it happened.
    /// </summary>
    public struct DecodeResult
    {
        public ProtocolError Error;
        public string Detail;
        public int Position;

        public bool Ok
        {
            get { return Error == ProtocolError.None; }
        }

        public static DecodeResult Success
        {
            get { return default(DecodeResult); }
        }

        public static DecodeResult Fail(ProtocolError error, string detail, int position)
        {
            DecodeResult r;
            r.Error = error;
            r.Detail = detail;
            r.Position = position;
            return r;
        }

        public override string ToString()
        {
            return Ok ? "ok" : Error + " at byte " + Position + ": " + Detail;
        }
    }
}
