using System;
using System.Threading;

namespace AvatarBridge.Protocol
{
    /// <summary>
    /// Hands the newest frame from one network thread to the main thread with a lock-free triple
    /// buffer: three buffers, one owned by the writer, one by the reader and one in a shared
    /// "middle" slot whose index and a "new frame" flag live in one int. Each hand-over is a single
    /// <see cref="Interlocked.Exchange(ref int, int)"/> of that int, so neither thread ever waits,
    /// no buffer is ever visible to both, and nothing is allocated after construction. When the
    /// reader is slower than the network, older frames are overwritten: drivers want the latest
    /// pose, not a queue. Exactly one writer thread and one reader thread.
    /// </summary>
    public sealed class FrameExchange<T> where T : class
    {
        private const int IndexMask = 3;
        private const int Fresh = 4;

        private readonly T[] buffers;
        private int middle = 1;
        private int writeIndex;
        private int readIndex = 2;

        public FrameExchange(Func<T> factory)
        {
            buffers = new[] { factory(), factory(), factory() };
        }

        /// <summary>Writer: the buffer to fill next.</summary>
        public T WriteBuffer
        {
            get { return buffers[writeIndex]; }
        }

        /// <summary>
        /// Writer: makes the filled <see cref="WriteBuffer"/> the latest frame and returns the next
        /// buffer to fill (the previous frame if the reader never took it, or the reader's old one).
        /// Its contents are stale; clear it before filling.
        /// </summary>
        public T Publish()
        {
            writeIndex = Interlocked.Exchange(ref middle, writeIndex | Fresh) & IndexMask;
            return buffers[writeIndex];
        }

        /// <summary>
        /// Reader: if a frame was published since the last call, makes <paramref name="current"/> that
        /// frame and returns true. The buffer <paramref name="current"/> referred to before goes back
        /// to the writer, so callers must not keep references to a frame across calls.
        /// </summary>
        public bool TryTake(ref T current)
        {
            if ((Volatile.Read(ref middle) & Fresh) == 0)
            {
                return false;
            }
            readIndex = Interlocked.Exchange(ref middle, readIndex) & IndexMask;
            current = buffers[readIndex];
            return true;
        }
    }
}
