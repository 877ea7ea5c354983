using System;
using System.Runtime.InteropServices;
using System.Text;

namespace AvatarBridge.Protocol
{
    /// <summary>
    /// A view of one OSC message inside the packet buffer that <see cref="OscParser"/> parsed.
    /// Nothing is copied: reading an argument decodes it from the buffer, and strings go through a
    /// <see cref="StringCache"/>, so walking a 60-message VMC frame allocates nothing. Valid only
    /// until the parser parses the next packet.
    /// </summary>
    public struct OscMessage
    {
        private readonly byte[] buffer;
        private readonly OscParser owner;
        private readonly int addressOffset;
        private readonly int addressLength;
        private readonly int tagOffset;
        private readonly int firstArg;
        private readonly int argCount;

        internal OscMessage(byte[] buffer, OscParser owner, int addressOffset, int addressLength, int tagOffset, int firstArg, int argCount)
        {
            this.buffer = buffer;
            this.owner = owner;
            this.addressOffset = addressOffset;
            this.addressLength = addressLength;
            this.tagOffset = tagOffset;
            this.firstArg = firstArg;
            this.argCount = argCount;
        }

        public int ArgumentCount
        {
            get { return argCount; }
        }

        /// <summary>The OSC type tag of argument <paramref name="index"/> ('i', 'f', 's', ...).</summary>
        public char GetTag(int index)
        {
            return (char)buffer[tagOffset + 1 + index];
        }

        /// <summary>Compares the address with ASCII bytes without allocating.</summary>
        public bool AddressEquals(byte[] ascii)
        {
            if (ascii.Length != addressLength)
            {
                return false;
            }
            for (int i = 0; i < addressLength; i++)
            {
                if (buffer[addressOffset + i] != ascii[i])
                {
                    return false;
                }
            }
            return true;
        }

        /// <summary>The address as a new string: for diagnostics, not the per-frame path.</summary>
        public string GetAddress()
        {
            return Encoding.UTF8.GetString(buffer, addressOffset, addressLength);
        }

        /// <summary>The type tags (without the leading comma) as a new string, for diagnostics.</summary>
        public string GetTypeTags()
        {
            return Encoding.ASCII.GetString(buffer, tagOffset + 1, argCount);
        }

        public bool TryGetInt(int index, out int value)
        {
            value = 0;
            if ((uint)index >= (uint)argCount)
            {
                return false;
            }
            int p = owner.ArgumentOffset(firstArg + index);
            switch (GetTag(index))
            {
                case 'i':
                    value = OscParser.ReadInt32(buffer, p);
                    return true;
                case 'T':
                    value = 1;
                    return true;
                case 'F':
                    value = 0;
                    return true;
                default:
                    return false;
            }
        }

        /// <summary>Reads a float argument; 'i' and 'd' are widened/narrowed since some senders use them.</summary>
        public bool TryGetFloat(int index, out float value)
        {
            value = 0f;
            if ((uint)index >= (uint)argCount)
            {
                return false;
            }
            int p = owner.ArgumentOffset(firstArg + index);
            switch (GetTag(index))
            {
                case 'f':
                    value = OscParser.ReadFloat32(buffer, p);
                    return true;
                case 'd':
                    value = (float)BitConverter.Int64BitsToDouble(OscParser.ReadInt64(buffer, p));
                    return true;
                case 'i':
                    value = OscParser.ReadInt32(buffer, p);
                    return true;
                default:
                    return false;
            }
        }

        public bool TryGetString(int index, StringCache cache, out string value)
        {
            value = null;
            if ((uint)index >= (uint)argCount)
            {
                return false;
            }
            char tag = GetTag(index);
            if (tag != 's' && tag != 'S')
            {
                return false;
            }
            int p = owner.ArgumentOffset(firstArg + index);
            int end = p;
            while (buffer[end] != 0)
            {
                end++;
            }
            value = cache.Get(buffer, p, end - p);
            return true;
        }
    }

    /// <summary>
    /// OSC 1.0 packet parser: messages and (nested) bundles, big-endian, NUL-terminated strings
    /// padded to four bytes. The whole packet is validated before any message is exposed, so a
    /// truncated datagram never half-applies a frame. Buffers are reused between packets; only a
    /// packet with more messages than ever seen before grows them.
    /// </summary>
    public sealed class OscParser
    {
        /// <summary>Bundles nested deeper than this are rejected: no sender needs it, and it bounds recursion.</summary>
        public const int MaxBundleDepth = 8;

        /// <summary>Upper bound on messages per packet, so garbage cannot make the parser allocate without limit.</summary>
        public const int MaxMessages = 16384;

        private static readonly byte[] BundleTag = { (byte)'#', (byte)'b', (byte)'u', (byte)'n', (byte)'d', (byte)'l', (byte)'e', 0 };

        private OscMessage[] messages = new OscMessage[128];
        private int[] argOffsets = new int[1024];
        private int messageCount;
        private int argCount;
        private byte[] buffer;
        private DecodeResult error;

        public int Count
        {
            get { return messageCount; }
        }

        public OscMessage this[int index]
        {
            get
            {
                if ((uint)index >= (uint)messageCount)
                {
                    throw new ArgumentOutOfRangeException("index");
                }
                return messages[index];
            }
        }

        /// <summary>
        /// Parses one packet (a message or a bundle). On failure <see cref="Count"/> is 0 and the
        /// result says why; this method never throws for any input bytes.
        /// </summary>
        public DecodeResult Parse(byte[] data, int offset, int length)
        {
            messageCount = 0;
            argCount = 0;
            buffer = data;
            error = DecodeResult.Success;
            if (data == null || length <= 0)
            {
                return DecodeResult.Fail(ProtocolError.Empty, "empty packet", 0);
            }
            if (offset < 0 || length > data.Length - offset)
            {
                return DecodeResult.Fail(ProtocolError.Truncated, "length exceeds the buffer", 0);
            }
            if ((length & 3) != 0)
            {
                return DecodeResult.Fail(ProtocolError.NotFourByteAligned, "OSC packet size is not a multiple of 4", length);
            }
            if (!ParseElement(offset, offset + length, 0))
            {
                messageCount = 0;
                return error;
            }
            return DecodeResult.Success;
        }

        internal int ArgumentOffset(int index)
        {
            return argOffsets[index];
        }

        private bool ParseElement(int start, int end, int depth)
        {
            if (buffer[start] == '#')
            {
                return ParseBundle(start, end, depth);
            }
            if (buffer[start] == '/')
            {
                return ParseMessage(start, end);
            }
            return Fail(ProtocolError.BadAddress, "element is neither a message ('/') nor a bundle ('#bundle')", start);
        }

        private bool ParseBundle(int start, int end, int depth)
        {
            if (depth >= MaxBundleDepth)
            {
                return Fail(ProtocolError.BundleTooDeep, "bundles nested too deeply", start);
            }
            if (end - start < 16)
            {
                return Fail(ProtocolError.Truncated, "bundle shorter than its header", start);
            }
            for (int i = 0; i < BundleTag.Length; i++)
            {
                if (buffer[start + i] != BundleTag[i])
                {
                    return Fail(ProtocolError.BadBundleHeader, "bundle does not start with \"#bundle\\0\"", start);
                }
            }
            int p = start + 16;
            while (p < end)
            {
                if (end - p < 4)
                {
                    return Fail(ProtocolError.Truncated, "bundle element size cut off", p);
                }
                int size = ReadInt32(buffer, p);
                p += 4;
                if (size <= 0 || (size & 3) != 0)
                {
                    return Fail(ProtocolError.BadBundleElement, "bundle element size is not a positive multiple of 4", p - 4);
                }
                if (size > end - p)
                {
                    return Fail(ProtocolError.Truncated, "bundle element runs past the end of the packet", p);
                }
                if (!ParseElement(p, p + size, depth + 1))
                {
                    return false;
                }
                p += size;
            }
            return true;
        }

        private bool ParseMessage(int start, int end)
        {
            int addressLength;
            int p = start;
            if (!ReadPaddedString(ref p, end, out addressLength))
            {
                return false;
            }
            int tagOffset = p;
            int tags = 0;
            if (p < end)
            {
                if (buffer[p] != ',')
                {
                    return Fail(ProtocolError.MissingTypeTags, "message has arguments but no type tag string", p);
                }
                int tagLength;
                if (!ReadPaddedString(ref p, end, out tagLength))
                {
                    return false;
                }
                tags = tagLength - 1;
            }
            if (messageCount >= MaxMessages)
            {
                return Fail(ProtocolError.TooManyMessages, "too many messages in one packet", start);
            }
            EnsureArgCapacity(argCount + tags);
            int first = argCount;
            for (int i = 0; i < tags; i++)
            {
                argOffsets[argCount++] = p;
                byte tag = buffer[tagOffset + 1 + i];
                int need;
                switch ((char)tag)
                {
                    case 'i':
                    case 'f':
                    case 'c':
                    case 'r':
                    case 'm':
                        need = 4;
                        break;
                    case 'h':
                    case 't':
                    case 'd':
                        need = 8;
                        break;
                    case 'T':
                    case 'F':
                    case 'N':
                    case 'I':
                        need = 0;
                        break;
                    case 's':
                    case 'S':
                        int ignored;
                        if (!ReadPaddedString(ref p, end, out ignored))
                        {
                            return false;
                        }
                        continue;
                    case 'b':
                        if (end - p < 4)
                        {
                            return Fail(ProtocolError.Truncated, "blob size cut off", p);
                        }
                        int blob = ReadInt32(buffer, p);
                        if (blob < 0 || blob > end - p - 4)
                        {
                            return Fail(ProtocolError.Truncated, "blob runs past the end of the message", p);
                        }
                        need = 4 + ((blob + 3) & ~3);
                        if (need > end - p)
                        {
                            return Fail(ProtocolError.Truncated, "blob padding runs past the end of the message", p);
                        }
                        break;
                    default:
                        return Fail(ProtocolError.UnsupportedTypeTag, "unsupported OSC type tag (arrays and unknown tags are not accepted)", tagOffset + 1 + i);
                }
                if (need > end - p)
                {
                    return Fail(ProtocolError.Truncated, "argument runs past the end of the message", p);
                }
                p += need;
            }
            if (p != end)
            {
                return Fail(ProtocolError.TrailingBytes, "bytes left after the last argument", p);
            }
            if (messageCount == messages.Length)
            {
                Array.Resize(ref messages, messages.Length * 2);
            }
            messages[messageCount++] = new OscMessage(buffer, this, start, addressLength, tagOffset, first, tags);
            return true;
        }

        /// <summary>Reads a NUL-terminated, 4-byte padded string starting at p; leaves p after the padding.</summary>
        private bool ReadPaddedString(ref int p, int end, out int length)
        {
            length = 0;
            int q = p;
            while (q < end && buffer[q] != 0)
            {
                q++;
            }
            if (q >= end)
            {
                return Fail(ProtocolError.UnterminatedString, "string without a terminating NUL", p);
            }
            length = q - p;
            int padded = (length + 4) & ~3;
            if (padded > end - p)
            {
                return Fail(ProtocolError.Truncated, "string padding runs past the end of the message", p);
            }
            p += padded;
            return true;
        }

        private void EnsureArgCapacity(int needed)
        {
            if (needed > argOffsets.Length)
            {
                int size = argOffsets.Length;
                while (size < needed)
                {
                    size *= 2;
                }
                Array.Resize(ref argOffsets, size);
            }
        }

        private bool Fail(ProtocolError kind, string detail, int position)
        {
            error = DecodeResult.Fail(kind, detail, position);
            return false;
        }

        [StructLayout(LayoutKind.Explicit)]
        private struct FloatBits
        {
            [FieldOffset(0)] public int Int;
            [FieldOffset(0)] public float Float;
        }

        internal static int ReadInt32(byte[] b, int p)
        {
            return (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
        }

        internal static long ReadInt64(byte[] b, int p)
        {
            return ((long)ReadInt32(b, p) << 32) | (uint)ReadInt32(b, p + 4);
        }

        internal static float ReadFloat32(byte[] b, int p)
        {
            FloatBits bits;
            bits.Float = 0f;
            bits.Int = ReadInt32(b, p);
            return bits.Float;
        }
    }
}
