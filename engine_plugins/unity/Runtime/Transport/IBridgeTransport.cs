using System;
using AvatarBridge.Protocol;

namespace AvatarBridge
{
    public enum TransportKind
    {
        /// <summary>VMC protocol: OSC bundles over UDP (the sidecar's default output).</summary>
        VmcUdp,

        /// <summary>The sidecar's WebSocket JSON stream: adds events (triggers) and control commands.</summary>
        WebSocket,
    }

    public enum ConnectionState
    {
        Stopped,

        /// <summary>UDP port bound, nothing received for a while.</summary>
        Listening,

        /// <summary>WebSocket handshake in progress.</summary>
        Connecting,

        /// <summary>WebSocket open, nothing received for a while.</summary>
        Connected,

        /// <summary>Packets arriving.</summary>
        Receiving,

        /// <summary>Bind or connect failed, or the connection dropped; retrying after a back-off.</summary>
        Retrying,
    }

    /// <summary>
    /// Where a transport hands what it receives, on its own network thread: whole UDP datagrams or
    /// whole WebSocket text messages (the buffer is reused after the call returns), and the ones it
    /// had to drop before any decoding (too large, binary).
    /// </summary>
    public interface ITransportListener
    {
        void OnReceived(byte[] buffer, int length);

        void OnDropped(DecodeResult reason);
    }

    /// <summary>
    /// One way of reaching the sidecar: a socket, its background receive loop with retries, and its
    /// state for the inspector. Transports know nothing of the wire format; the
    /// <see cref="BridgeConnection"/> that owns one decodes what it delivers. Engine-free, so the
    /// transports run (and are tested) under plain Mono.
    /// </summary>
    public interface IBridgeTransport : IDisposable
    {
        TransportKind Kind { get; }

        /// <summary>What it listens on or connects to, for messages ("UDP port 39539", "ws://127.0.0.1:8765").</summary>
        string Endpoint { get; }

        /// <summary>Stopped, Listening, Connecting, Connected or Retrying; the connection adds Receiving.</summary>
        ConnectionState State { get; }

        /// <summary>What the transport is doing, or why the last bind/connect/send failed.</summary>
        string StateDetail { get; }

        /// <summary>Starts the receive loop; does nothing when it is running.</summary>
        void Start(ITransportListener listener);

        /// <summary>Stops the loop and waits briefly for it, so a domain reload never leaves a socket bound.</summary>
        void Stop();

        /// <summary>Queues one text message to the sidecar; false when this transport cannot send now.</summary>
        bool SendText(string text);
    }
}
