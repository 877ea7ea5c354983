using System;
using System.Threading;

namespace AvatarBridge
{
    /// <summary>
    /// The state, detail and retry back-off every transport keeps: written by its network thread,
    /// read from any thread. Retries start after half a second and double up to ten, so a sidecar
    /// that is not running yet costs a few attempts a minute, not a busy loop.
    /// </summary>
    internal sealed class TransportStatus
    {
        private const int FirstBackoffMs = 500;
        private const int MaxBackoffMs = 10000;

        private int state;
        private string detail = "";
        private int backoffMs = FirstBackoffMs;

        public ConnectionState State
        {
            get { return (ConnectionState)Volatile.Read(ref state); }
        }

        public string Detail
        {
            get { return Volatile.Read(ref detail); }
            set { Volatile.Write(ref detail, value); }
        }

        public void Set(ConnectionState s, string why)
        {
            Volatile.Write(ref detail, why);
            Volatile.Write(ref state, (int)s);
        }

        /// <summary>A bind or connect succeeded: the next failure retries quickly again.</summary>
        public void ResetBackoff()
        {
            backoffMs = FirstBackoffMs;
        }

        /// <summary>The delay before the next attempt; each call doubles the following one.</summary>
        public int NextBackoffMs()
        {
            int delay = backoffMs;
            backoffMs = Math.Min(backoffMs * 2, MaxBackoffMs);
            return delay;
        }
    }
}
