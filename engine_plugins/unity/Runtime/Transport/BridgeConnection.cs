using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading;
using AvatarBridge.Protocol;

namespace AvatarBridge
{
    /// <summary>
    /// The receiver's network side, free of UnityEngine so it runs (and is tested) under plain
    /// Mono. It owns one <see cref="IBridgeTransport"/> and decodes what that delivers, on the
    /// transport's thread, into reused <see cref="FrameData"/> buffers: OSC/VMC for datagrams, the
    /// JSON messages for the WebSocket. The newest complete frame is published through a
    /// <see cref="FrameExchange{T}"/>; events and replies, which must not be dropped like
    /// superseded poses, go through small concurrent queues. Bad packets become counts in
    /// <see cref="Errors"/>, never exceptions.
    /// </summary>
    public sealed class BridgeConnection : IDisposable, ITransportListener
    {
        /// <summary>Without packets for this long the state falls back from Receiving to Listening/Connected.</summary>
        public const double StaleAfterSeconds = 1.0;

        private const int MaxQueued = 256;

        private readonly IBridgeTransport transport;
        private readonly bool datagrams;
        private readonly FrameExchange<FrameData> exchange = new FrameExchange<FrameData>(() => new FrameData());
        private readonly ConcurrentQueue<BridgeEvent> events = new ConcurrentQueue<BridgeEvent>();
        private readonly ConcurrentQueue<ReplyData> replies = new ConcurrentQueue<ReplyData>();
        private readonly ErrorTally errors = new ErrorTally();
        private readonly Stopwatch clock = Stopwatch.StartNew();
        private OscParser oscParser;
        private VmcDecoder vmcDecoder;
        private WsMessageDecoder wsDecoder;
        private FrameData pending;
        private HelloData hello;
        private long lastPacketTicks = -1;
        private long packets;
        private long frames;
        private long framesWithoutPerson;
        private volatile int followSlot = 1;
        private volatile string followName;
        private int nextCommandId;
        private bool running;

        /// <summary>A connection over the transport <paramref name="kind"/> names (see <see cref="CreateTransport"/>).</summary>
        public BridgeConnection(TransportKind kind, int udpPort, string webSocketUrl)
            : this(CreateTransport(kind, udpPort, webSocketUrl))
        {
        }

        public BridgeConnection(IBridgeTransport transport)
        {
            if (transport == null)
            {
                throw new ArgumentNullException("transport");
            }
            this.transport = transport;
            datagrams = transport.Kind == TransportKind.VmcUdp;
        }

        /// <summary>VMC on UDP port <paramref name="udpPort"/>, or the WebSocket at <paramref name="webSocketUrl"/>.</summary>
        public static IBridgeTransport CreateTransport(TransportKind kind, int udpPort, string webSocketUrl)
        {
            return kind == TransportKind.VmcUdp ? (IBridgeTransport)new UdpTransport(udpPort) : new WebSocketTransport(webSocketUrl);
        }

        public IBridgeTransport Transport
        {
            get { return transport; }
        }

        public TransportKind Kind
        {
            get { return transport.Kind; }
        }

        /// <summary>The transport's state, shown as Receiving while packets keep arriving.</summary>
        public ConnectionState State
        {
            get
            {
                ConnectionState s = transport.State;
                bool open = s == ConnectionState.Listening || s == ConnectionState.Connected;
                return open && SecondsSinceLastPacket <= StaleAfterSeconds ? ConnectionState.Receiving : s;
            }
        }

        /// <summary>Why the last bind/connect failed or what the connection is doing, for the inspector.</summary>
        public string StateDetail
        {
            get { return transport.StateDetail; }
        }

        public long PacketsReceived
        {
            get { return Interlocked.Read(ref packets); }
        }

        public long FramesDecoded
        {
            get { return Interlocked.Read(ref frames); }
        }

        /// <summary>
        /// WebSocket frames that did not hold the person followed (<see cref="FollowName"/> or
        /// <see cref="FollowSlot"/>), so nothing was published for them; VMC carries a single person
        /// and never counts here.
        /// </summary>
        public long FramesWithoutPerson
        {
            get { return Interlocked.Read(ref framesWithoutPerson); }
        }

        /// <summary>
        /// Which person of the WebSocket frames' <c>people</c> list to follow while
        /// <see cref="FollowName"/> is not set: the one in this slot (1..4, default 1: the first
        /// person, the only one of a one-person run). Takes effect from the next message, with no
        /// reconnect; safe to set from any thread.
        /// </summary>
        public int FollowSlot
        {
            get { return followSlot; }
            set
            {
                if (value < 1 || value > WsMessageDecoder.MaxSlot)
                {
                    throw new ArgumentOutOfRangeException("value", "a slot is 1 to " + WsMessageDecoder.MaxSlot);
                }
                followSlot = value;
            }
        }

        /// <summary>
        /// Follow the person with this enrolled name wherever they are, instead of a slot; null or
        /// empty follows <see cref="FollowSlot"/>. While nobody in the frames has the name, nothing is
        /// published (the avatar holds its last pose), never someone else's values. Takes effect from
        /// the next message; safe to set from any thread.
        /// </summary>
        public string FollowName
        {
            get { return followName; }
            set { followName = string.IsNullOrEmpty(value) ? null : value; }
        }

        public ErrorTally Errors
        {
            get { return errors; }
        }

        /// <summary>The last WebSocket hello (channel names), or null.</summary>
        public HelloData Hello
        {
            get { return Volatile.Read(ref hello); }
        }

        /// <summary>Seconds since the last packet, or infinity before the first.</summary>
        public double SecondsSinceLastPacket
        {
            get
            {
                long t = Interlocked.Read(ref lastPacketTicks);
                return t < 0 ? double.PositiveInfinity : (clock.ElapsedTicks - t) / (double)Stopwatch.Frequency;
            }
        }

        /// <summary>Starts the transport with fresh decoders; does nothing when it is running.</summary>
        public void Start()
        {
            if (running)
            {
                return;
            }
            running = true;
            oscParser = new OscParser();
            vmcDecoder = new VmcDecoder(new StringCache());
            wsDecoder = new WsMessageDecoder(new StringCache());
            pending = exchange.WriteBuffer;
            pending.Clear();
            transport.Start(this);
        }

        public void Stop()
        {
            transport.Stop();
            running = false;
        }

        public void Dispose()
        {
            Stop();
            transport.Dispose();
        }

        /// <summary>Main thread: swaps in the newest frame if there is one (see <see cref="FrameExchange{T}.TryTake"/>).</summary>
        public bool TryTakeFrame(ref FrameData current)
        {
            return exchange.TryTake(ref current);
        }

        public bool TryDequeueEvent(out BridgeEvent e)
        {
            return events.TryDequeue(out e);
        }

        public bool TryDequeueReply(out ReplyData reply)
        {
            return replies.TryDequeue(out reply);
        }

        /// <summary>
        /// Sends a control command (built with <see cref="ControlCommands"/>) and returns the id
        /// its reply will carry, or -1 when the transport cannot send (VMC, or not connected). The
        /// reply arrives later through <see cref="TryDequeueReply"/>.
        /// </summary>
        public int Send(ControlCommand command)
        {
            int id = Interlocked.Increment(ref nextCommandId);
            return transport.SendText(command.ToJson(id)) ? id : -1;
        }

        /// <summary>Sends a command without arguments by name ("calibrate", "pause", ...); see <see cref="Send"/>.</summary>
        public int SendCommand(string command)
        {
            return Send(ControlCommands.Named(command));
        }

        void ITransportListener.OnReceived(byte[] buffer, int length)
        {
            Interlocked.Increment(ref packets);
            Interlocked.Exchange(ref lastPacketTicks, clock.ElapsedTicks);
            if (datagrams)
            {
                HandleDatagram(buffer, length);
            }
            else
            {
                HandleMessage(buffer, length);
            }
        }

        void ITransportListener.OnDropped(DecodeResult reason)
        {
            errors.Add(reason);
        }

        /// <summary>Parses one datagram; a frame may end mid-datagram, so several can complete here.</summary>
        private void HandleDatagram(byte[] buffer, int length)
        {
            DecodeResult parsed = oscParser.Parse(buffer, 0, length);
            if (!parsed.Ok)
            {
                errors.Add(parsed);
                return;
            }
            int index = 0;
            while (index < oscParser.Count)
            {
                bool complete;
                DecodeResult r = vmcDecoder.Decode(oscParser, ref index, pending, out complete);
                if (!r.Ok)
                {
                    errors.Add(r);
                }
                if (complete)
                {
                    Interlocked.Increment(ref frames);
                    pending = exchange.Publish();
                    pending.Clear();
                }
            }
        }

        private void HandleMessage(byte[] buffer, int length)
        {
            WsMessageKind messageKind;
            wsDecoder.FollowSlot = followSlot;
            wsDecoder.FollowName = followName;
            DecodeResult r = wsDecoder.Decode(buffer, 0, length, pending, out messageKind);
            if (!r.Ok)
            {
                errors.Add(r);
                return;
            }
            switch (messageKind)
            {
                case WsMessageKind.Hello:
                    Volatile.Write(ref hello, wsDecoder.Hello);
                    break;
                case WsMessageKind.Reply:
                    if (replies.Count < MaxQueued)
                    {
                        replies.Enqueue(wsDecoder.LastReply);
                    }
                    break;
                case WsMessageKind.Frame:
                    if (!pending.Applied)
                    {
                        Interlocked.Increment(ref framesWithoutPerson);
                        break;
                    }
                    for (int i = 0; i < pending.EventCount && events.Count < MaxQueued; i++)
                    {
                        events.Enqueue(pending.Events[i]);
                    }
                    Interlocked.Increment(ref frames);
                    pending = exchange.Publish();
                    break;
            }
        }
    }
}
