using System;
using System.Text;

namespace AvatarBridge.Protocol
{
    public enum JsonToken
    {
        None,
        BeginObject,
        EndObject,
        BeginArray,
        EndArray,
        PropertyName,
        String,
        Number,
        True,
        False,
        Null,
        EndOfInput,
        Error,
    }

    /// <summary>
    /// A strict, forward-only JSON (RFC 8259) reader working directly on UTF-8 bytes. It exists so
    /// the receiver needs no third-party JSON library and decodes a 30 Hz frame without building a
    /// DOM or allocating per value: numbers are parsed in place and strings are compared in place
    /// or interned through a <see cref="StringCache"/>. Syntax errors become an
    /// <see cref="JsonToken.Error"/> token with <see cref="Error"/> set; nothing throws.
    /// </summary>
    public sealed class JsonReader
    {
        /// <summary>Nesting limit; our messages nest three levels, and it bounds work on garbage.</summary>
        public const int MaxDepth = 64;

        private enum Expect
        {
            Value,
            ValueOrEndArray,
            NameOrEndObject,
            Name,
            CommaOrEnd,
            Done,
        }

        private static readonly double[] Pow10 =
        {
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
            1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
        };

        private readonly bool[] inObject = new bool[MaxDepth];
        private byte[] buf;
        private int pos;
        private int end;
        private int depth;
        private Expect expect;
        private int valueStart;
        private int valueLength;
        private bool valueEscaped;
        private bool numberIsInteger;
        private byte[] scratch = new byte[256];

        public JsonToken Token { get; private set; }

        public DecodeResult Error { get; private set; }

        public void Reset(byte[] data, int offset, int length)
        {
            buf = data;
            pos = offset;
            end = offset + length;
            depth = 0;
            expect = Expect.Value;
            Token = JsonToken.None;
            Error = DecodeResult.Success;
            if (data == null || offset < 0 || length < 0 || length > data.Length - offset)
            {
                buf = data ?? new byte[0];
                end = pos = 0;
                Fail(ProtocolError.Truncated, "length exceeds the buffer");
            }
        }

        /// <summary>Advances to the next token and returns it.</summary>
        public JsonToken Read()
        {
            if (Token == JsonToken.Error)
            {
                return Token;
            }
            while (true)
            {
                SkipWhitespace();
                switch (expect)
                {
                    case Expect.Done:
                        if (pos < end)
                        {
                            return Fail(ProtocolError.InvalidJson, "characters after the end of the JSON value");
                        }
                        return Token = JsonToken.EndOfInput;
                    case Expect.NameOrEndObject:
                    case Expect.Name:
                        if (pos >= end)
                        {
                            return Fail(ProtocolError.InvalidJson, "input ends inside an object");
                        }
                        if (buf[pos] == '}' && expect == Expect.NameOrEndObject)
                        {
                            pos++;
                            return CloseContainer(JsonToken.EndObject);
                        }
                        if (buf[pos] != '"')
                        {
                            return Fail(ProtocolError.InvalidJson, "expected a property name in double quotes");
                        }
                        if (!ScanString())
                        {
                            return Token;
                        }
                        SkipWhitespace();
                        if (pos >= end || buf[pos] != ':')
                        {
                            return Fail(ProtocolError.InvalidJson, "expected ':' after a property name");
                        }
                        pos++;
                        expect = Expect.Value;
                        return Token = JsonToken.PropertyName;
                    case Expect.ValueOrEndArray:
                        if (pos < end && buf[pos] == ']')
                        {
                            pos++;
                            return CloseContainer(JsonToken.EndArray);
                        }
                        return ReadValue();
                    case Expect.Value:
                        return ReadValue();
                    case Expect.CommaOrEnd:
                        if (pos >= end)
                        {
                            return Fail(ProtocolError.InvalidJson, "input ends inside a container");
                        }
                        byte c = buf[pos];
                        bool obj = inObject[depth - 1];
                        if (c == ',')
                        {
                            pos++;
                            expect = obj ? Expect.Name : Expect.Value;
                            continue;
                        }
                        if (c == '}' && obj)
                        {
                            pos++;
                            return CloseContainer(JsonToken.EndObject);
                        }
                        if (c == ']' && !obj)
                        {
                            pos++;
                            return CloseContainer(JsonToken.EndArray);
                        }
                        return Fail(ProtocolError.InvalidJson, obj ? "expected ',' or '}'" : "expected ',' or ']'");
                }
            }
        }

        /// <summary>
        /// Skips the value that starts at the current token (a whole object or array when the token
        /// opens one). Returns false on a syntax error.
        /// </summary>
        public bool Skip()
        {
            if (Token == JsonToken.BeginObject || Token == JsonToken.BeginArray)
            {
                int target = depth - 1;
                while (depth > target)
                {
                    if (Read() == JsonToken.Error)
                    {
                        return false;
                    }
                }
            }
            return Token != JsonToken.Error;
        }

        /// <summary>Reads the next token as a value and skips it; for unknown properties.</summary>
        public bool SkipNextValue()
        {
            Read();
            return Skip();
        }

        /// <summary>Whether the current string or property name equals the given ASCII bytes.</summary>
        public bool ValueEquals(byte[] ascii)
        {
            byte[] data;
            int start;
            int length;
            Unescaped(out data, out start, out length);
            if (length != ascii.Length)
            {
                return false;
            }
            for (int i = 0; i < length; i++)
            {
                if (data[start + i] != ascii[i])
                {
                    return false;
                }
            }
            return true;
        }

        /// <summary>The current string, interned: repeated names cost no allocation.</summary>
        public string GetString(StringCache cache)
        {
            byte[] data;
            int start;
            int length;
            Unescaped(out data, out start, out length);
            return cache.Get(data, start, length);
        }

        /// <summary>The current string as a new instance, for one-off text such as reply messages.</summary>
        public string GetStringCopy()
        {
            byte[] data;
            int start;
            int length;
            Unescaped(out data, out start, out length);
            return Encoding.UTF8.GetString(data, start, length);
        }

        /// <summary>Parses the current number token in place (exact for up to 15 significant digits).</summary>
        public bool TryGetDouble(out double value)
        {
            value = 0;
            if (Token != JsonToken.Number)
            {
                return false;
            }
            int p = valueStart;
            int stop = valueStart + valueLength;
            bool negative = buf[p] == '-';
            if (negative)
            {
                p++;
            }
            ulong mantissa = 0;
            int digits = 0;
            int exponent = 0;
            bool fraction = false;
            for (; p < stop; p++)
            {
                byte c = buf[p];
                if (c == '.')
                {
                    fraction = true;
                    continue;
                }
                if (c == 'e' || c == 'E')
                {
                    break;
                }
                int d = c - '0';
                if (mantissa == 0 && d == 0)
                {
                    if (fraction)
                    {
                        exponent--;
                    }
                    continue;
                }
                if (digits < 19)
                {
                    mantissa = mantissa * 10 + (ulong)d;
                    digits++;
                    if (fraction)
                    {
                        exponent--;
                    }
                }
                else if (!fraction)
                {
                    exponent++;
                }
            }
            if (p < stop)
            {
                p++;
                bool expNegative = false;
                if (buf[p] == '+' || buf[p] == '-')
                {
                    expNegative = buf[p] == '-';
                    p++;
                }
                int e = 0;
                for (; p < stop; p++)
                {
                    if (e < 100000)
                    {
                        e = e * 10 + (buf[p] - '0');
                    }
                }
                exponent += expNegative ? -e : e;
            }
            double v = mantissa;
            if (mantissa == 0)
            {
                v = 0;
            }
            else if (exponent >= 0 && exponent <= 22)
            {
                v *= Pow10[exponent];
            }
            else if (exponent < 0 && exponent >= -22)
            {
                v /= Pow10[-exponent];
            }
            else
            {
                v *= Math.Pow(10, exponent);
            }
            value = negative ? -v : v;
            return !double.IsInfinity(value);
        }

        /// <summary>Parses the current number as a 64-bit integer; false for fractions or overflow.</summary>
        public bool TryGetLong(out long value)
        {
            value = 0;
            if (Token != JsonToken.Number || !numberIsInteger)
            {
                return false;
            }
            int p = valueStart;
            int stop = valueStart + valueLength;
            bool negative = buf[p] == '-';
            if (negative)
            {
                p++;
            }
            long v = 0;
            for (; p < stop; p++)
            {
                int d = buf[p] - '0';
                if (v > (long.MaxValue - d) / 10)
                {
                    return false;
                }
                v = v * 10 + d;
            }
            value = negative ? -v : v;
            return true;
        }

        private JsonToken ReadValue()
        {
            if (pos >= end)
            {
                return Fail(ProtocolError.InvalidJson, depth == 0 ? "no JSON value" : "input ends where a value was expected");
            }
            byte c = buf[pos];
            switch ((char)c)
            {
                case '{':
                case '[':
                    if (depth == MaxDepth)
                    {
                        return Fail(ProtocolError.JsonTooDeep, "JSON nested too deeply");
                    }
                    pos++;
                    inObject[depth++] = c == '{';
                    expect = c == '{' ? Expect.NameOrEndObject : Expect.ValueOrEndArray;
                    return Token = c == '{' ? JsonToken.BeginObject : JsonToken.BeginArray;
                case '"':
                    if (!ScanString())
                    {
                        return Token;
                    }
                    AfterValue();
                    return Token = JsonToken.String;
                case 't':
                    return Literal("true", JsonToken.True);
                case 'f':
                    return Literal("false", JsonToken.False);
                case 'n':
                    return Literal("null", JsonToken.Null);
                default:
                    if (c == '-' || (c >= '0' && c <= '9'))
                    {
                        if (!ScanNumber())
                        {
                            return Token;
                        }
                        AfterValue();
                        return Token = JsonToken.Number;
                    }
                    return Fail(ProtocolError.InvalidJson, "unexpected character where a value was expected");
            }
        }

        private JsonToken Literal(string word, JsonToken token)
        {
            if (end - pos < word.Length)
            {
                return Fail(ProtocolError.InvalidJson, "truncated literal");
            }
            for (int i = 0; i < word.Length; i++)
            {
                if (buf[pos + i] != word[i])
                {
                    return Fail(ProtocolError.InvalidJson, "unknown literal (expected true, false or null)");
                }
            }
            pos += word.Length;
            AfterValue();
            return Token = token;
        }

        private JsonToken CloseContainer(JsonToken token)
        {
            depth--;
            AfterValue();
            return Token = token;
        }

        private void AfterValue()
        {
            expect = depth == 0 ? Expect.Done : Expect.CommaOrEnd;
        }

        private bool ScanString()
        {
            int p = pos + 1;
            bool escaped = false;
            while (true)
            {
                if (p >= end)
                {
                    Fail(ProtocolError.BadString, "unterminated string");
                    return false;
                }
                byte c = buf[p];
                if (c == '"')
                {
                    break;
                }
                if (c < 0x20)
                {
                    Fail(ProtocolError.BadString, "control character inside a string");
                    return false;
                }
                if (c == '\\')
                {
                    escaped = true;
                    if (p + 1 >= end)
                    {
                        Fail(ProtocolError.BadString, "unterminated escape");
                        return false;
                    }
                    byte e = buf[p + 1];
                    if (e == 'u')
                    {
                        if (end - p < 6 || Hex(buf[p + 2]) < 0 || Hex(buf[p + 3]) < 0 || Hex(buf[p + 4]) < 0 || Hex(buf[p + 5]) < 0)
                        {
                            Fail(ProtocolError.BadString, "bad \\u escape");
                            return false;
                        }
                        p += 6;
                        continue;
                    }
                    if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' && e != 't')
                    {
                        Fail(ProtocolError.BadString, "unknown escape sequence");
                        return false;
                    }
                    p += 2;
                    continue;
                }
                p++;
            }
            valueStart = pos + 1;
            valueLength = p - valueStart;
            valueEscaped = escaped;
            pos = p + 1;
            return true;
        }

        private bool ScanNumber()
        {
            int start = pos;
            int p = pos;
            bool integer = true;
            if (buf[p] == '-')
            {
                p++;
            }
            if (p >= end || !IsDigit(buf[p]))
            {
                Fail(ProtocolError.BadNumber, "'-' without digits");
                return false;
            }
            if (buf[p] == '0')
            {
                p++;
            }
            else
            {
                while (p < end && IsDigit(buf[p]))
                {
                    p++;
                }
            }
            if (p < end && buf[p] == '.')
            {
                integer = false;
                p++;
                if (p >= end || !IsDigit(buf[p]))
                {
                    Fail(ProtocolError.BadNumber, "no digits after the decimal point");
                    return false;
                }
                while (p < end && IsDigit(buf[p]))
                {
                    p++;
                }
            }
            if (p < end && (buf[p] == 'e' || buf[p] == 'E'))
            {
                integer = false;
                p++;
                if (p < end && (buf[p] == '+' || buf[p] == '-'))
                {
                    p++;
                }
                if (p >= end || !IsDigit(buf[p]))
                {
                    Fail(ProtocolError.BadNumber, "no digits in the exponent");
                    return false;
                }
                while (p < end && IsDigit(buf[p]))
                {
                    p++;
                }
            }
            if (p < end && (IsDigit(buf[p]) || buf[p] == '.' || buf[p] == '-' || buf[p] == '+'))
            {
                Fail(ProtocolError.BadNumber, "malformed number (leading zero or stray sign)");
                return false;
            }
            valueStart = start;
            valueLength = p - start;
            numberIsInteger = integer;
            pos = p;
            return true;
        }

        /// <summary>Gives the current string's bytes with escapes resolved (into a reused scratch buffer if needed).</summary>
        private void Unescaped(out byte[] data, out int start, out int length)
        {
            if (!valueEscaped)
            {
                data = buf;
                start = valueStart;
                length = valueLength;
                return;
            }
            if (scratch.Length < valueLength)
            {
                scratch = new byte[Math.Max(valueLength, scratch.Length * 2)];
            }
            int n = 0;
            int p = valueStart;
            int stop = valueStart + valueLength;
            while (p < stop)
            {
                byte c = buf[p];
                if (c != '\\')
                {
                    scratch[n++] = c;
                    p++;
                    continue;
                }
                byte e = buf[p + 1];
                p += 2;
                switch ((char)e)
                {
                    case 'b': scratch[n++] = 8; break;
                    case 'f': scratch[n++] = 12; break;
                    case 'n': scratch[n++] = 10; break;
                    case 'r': scratch[n++] = 13; break;
                    case 't': scratch[n++] = 9; break;
                    case 'u':
                        int code = HexValue(p);
                        p += 4;
                        if (code >= 0xD800 && code <= 0xDBFF && p + 6 <= stop && buf[p] == '\\' && buf[p + 1] == 'u')
                        {
                            int low = HexValue(p + 2);
                            if (low >= 0xDC00 && low <= 0xDFFF)
                            {
                                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                                p += 6;
                            }
                        }
                        if (code >= 0xD800 && code <= 0xDFFF)
                        {
                            code = 0xFFFD;
                        }
                        n = AppendUtf8(code, n);
                        break;
                    default: scratch[n++] = e; break;
                }
            }
            data = scratch;
            start = 0;
            length = n;
        }

        /// <summary>A \uXXXX escape (6 bytes) never decodes to more than 4 UTF-8 bytes, so scratch never overflows.</summary>
        private int AppendUtf8(int code, int n)
        {
            if (code < 0x80)
            {
                scratch[n++] = (byte)code;
            }
            else if (code < 0x800)
            {
                scratch[n++] = (byte)(0xC0 | (code >> 6));
                scratch[n++] = (byte)(0x80 | (code & 0x3F));
            }
            else if (code < 0x10000)
            {
                scratch[n++] = (byte)(0xE0 | (code >> 12));
                scratch[n++] = (byte)(0x80 | ((code >> 6) & 0x3F));
                scratch[n++] = (byte)(0x80 | (code & 0x3F));
            }
            else
            {
                scratch[n++] = (byte)(0xF0 | (code >> 18));
                scratch[n++] = (byte)(0x80 | ((code >> 12) & 0x3F));
                scratch[n++] = (byte)(0x80 | ((code >> 6) & 0x3F));
                scratch[n++] = (byte)(0x80 | (code & 0x3F));
            }
            return n;
        }

        private int HexValue(int p)
        {
            return (Hex(buf[p]) << 12) | (Hex(buf[p + 1]) << 8) | (Hex(buf[p + 2]) << 4) | Hex(buf[p + 3]);
        }

        private static int Hex(byte c)
        {
            if (c >= '0' && c <= '9')
            {
                return c - '0';
            }
            if (c >= 'a' && c <= 'f')
            {
                return c - 'a' + 10;
            }
            if (c >= 'A' && c <= 'F')
            {
                return c - 'A' + 10;
            }
            return -1;
        }

        private static bool IsDigit(byte c)
        {
            return c >= '0' && c <= '9';
        }

        private void SkipWhitespace()
        {
            while (pos < end)
            {
                byte c = buf[pos];
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
                {
                    return;
                }
                pos++;
            }
        }

        private JsonToken Fail(ProtocolError kind, string detail)
        {
            Error = DecodeResult.Fail(kind, detail, pos);
            return Token = JsonToken.Error;
        }
    }
}
