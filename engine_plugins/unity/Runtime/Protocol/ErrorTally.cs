using System;
using System.Threading;

namespace AvatarBridge.Protocol
{
    /// <summary>
    /// Counts rejected packets from the network thread, remembers the first of each <see cref="ProtocolError"/> kind, and lets
    /// the main thread report each kind once. A misconfigured sender produces the same error 30
    /// times a second; one clear console line per kind (plus a running count in the inspector) is
    /// what a user can act on, and no strings are built per bad packet.
    /// </summary>
    public sealed class ErrorTally
    {
        private static readonly int KindCount = Enum.GetValues(typeof(ProtocolError)).Length;

        private readonly DecodeResult[] first = new DecodeResult[KindCount];
        private readonly int[] firstSet = new int[KindCount];
        private readonly bool[] reported = new bool[KindCount];
        private int total;

        /// <summary>All rejected packets/messages so far.</summary>
        public int Total
        {
            get { return Volatile.Read(ref total); }
        }

        /// <summary>Network thread: counts one error, remembering the first of its kind.</summary>
        public void Add(DecodeResult result)
        {
            int k = (int)result.Error;
            if (k <= 0 || k >= KindCount)
            {
                return;
            }
            if (Interlocked.CompareExchange(ref firstSet[k], 1, 0) == 0)
            {
                first[k] = result;
                Interlocked.Exchange(ref firstSet[k], 2);
            }
            Interlocked.Increment(ref total);
        }

        /// <summary>
        /// Main thread: the next error kind that occurred but has not been reported yet, with its
        /// first occurrence. Call until it returns false.
        /// </summary>
        public bool TryTakeUnreported(out DecodeResult firstOccurrence)
        {
            for (int k = 1; k < KindCount; k++)
            {
                if (!reported[k] && Volatile.Read(ref firstSet[k]) == 2)
                {
                    reported[k] = true;
                    firstOccurrence = first[k];
                    return true;
                }
            }
            firstOccurrence = default(DecodeResult);
            return false;
        }
    }
}
