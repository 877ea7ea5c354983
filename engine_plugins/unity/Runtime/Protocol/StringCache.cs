using System.Text;

namespace AvatarBridge.Protocol
{
    /// <summary>
    /// Turns UTF-8 byte ranges into strings, returning the same string instance for the same bytes.
    /// A VMC frame carries ~60 names and a JSON frame a few event names; decoding them afresh each
    /// frame would be the receiver's main source of garbage. The cache is bounded so a sender that
    /// never repeats a name cannot grow it forever. Not thread-safe: one instance per decoder.
    /// </summary>
    public sealed class StringCache
    {
        private const int MaxEntries = 4096;

        private struct Entry
        {
            public int Hash;
            public byte[] Bytes;
            public string Value;
            public int Next;
        }

        private readonly int[] buckets = new int[1024];
        private Entry[] entries = new Entry[64];
        private int count;

        public StringCache()
        {
            for (int i = 0; i < buckets.Length; i++)
            {
                buckets[i] = -1;
            }
        }

        public string Get(byte[] data, int offset, int length)
        {
            int hash = HashOf(data, offset, length);
            int bucket = (hash & 0x7fffffff) % buckets.Length;
            for (int i = buckets[bucket]; i >= 0; i = entries[i].Next)
            {
                if (entries[i].Hash == hash && SameBytes(entries[i].Bytes, data, offset, length))
                {
                    return entries[i].Value;
                }
            }
            string value = Encoding.UTF8.GetString(data, offset, length);
            if (count >= MaxEntries)
            {
                return value;
            }
            if (count == entries.Length)
            {
                System.Array.Resize(ref entries, entries.Length * 2);
            }
            var copy = new byte[length];
            System.Buffer.BlockCopy(data, offset, copy, 0, length);
            entries[count].Hash = hash;
            entries[count].Bytes = copy;
            entries[count].Value = value;
            entries[count].Next = buckets[bucket];
            buckets[bucket] = count;
            count++;
            return value;
        }

        private static int HashOf(byte[] data, int offset, int length)
        {
            unchecked
            {
                int h = (int)2166136261;
                for (int i = 0; i < length; i++)
                {
                    h = (h ^ data[offset + i]) * 16777619;
                }
                return h;
            }
        }

        private static bool SameBytes(byte[] a, byte[] data, int offset, int length)
        {
            if (a.Length != length)
            {
                return false;
            }
            for (int i = 0; i < length; i++)
            {
                if (a[i] != data[offset + i])
                {
                    return false;
                }
            }
            return true;
        }
    }
}
