using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
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
    /// The receiver's network side, free of UnityEngine so it runs (and is tested) under plain
    /// Mono. It owns one background thread (UDP) or task (WebSocket) that reads packets, decodes
    /// them into reused <see cref="FrameData"/> buffers and publishes the newest complete frame
    /// through a <see cref="FrameExchange{T}"/>. Events and replies, which must not be dropped like
    /// superseded poses, go through small concurrent queues. Failures never escape the thread: bind
    /// and connect errors lead to retries with exponential back-off, bad packets to counts in
    /// <see cref="Errors"/>.
    /// </summary>
    public sealed class BridgeConnection : IDisposable
    {
        /// <summary>Without packets for this long the state falls back from Receiving to Listening/Connected.</summary>
        public const double StaleAfterSeconds = 1.0;

        /// <summary>Largest WebSocket message accepted; a frame with 52 shapes is ~2 KB.</summary>
        public const int MaxMessageBytes = 1 << 20;

        private const int MaxQueued = 256;
        private const int FirstBackoffMs = 500;
        private const int MaxBackoffMs = 10000;

        private readonly TransportKind kind;
        private readonly int port;
        private readonly string url;
        private readonly FrameExchange<FrameData> exchange = new FrameExchange<FrameData>(() => new FrameData());
        private readonly ConcurrentQueue<BridgeEvent> events = new ConcurrentQueue<BridgeEvent>();
        private readonly ConcurrentQueue<ReplyData> replies = new ConcurrentQueue<ReplyData>();
        private readonly ErrorTally errors = new ErrorTally();
        private readonly Stopwatch clock = Stopwatch.StartNew();
        private readonly SemaphoreSlim sendLock = new SemaphoreSlim(1, 1);
        private CancellationTokenSource cancel;
        private Thread udpThread;
        private Task webSocketTask;
        private ClientWebSocket socket;
        private HelloData hello;
        private int state;
        private string stateDetail = "";
        private long lastPacketTicks = -1;
        private long packets;
        private long frames;
        private int nextCommandId;

        public BridgeConnection(TransportKind kind, int udpPort, string webSocketUrl)
        {
            this.kind = kind;
            port = udpPort;
            url = webSocketUrl;
        }

        public TransportKind Kind
        {
            get { return kind; }
        }

        public int Port
        {
            get { return port; }
        }

        public string Url
        {
            get { return url; }
        }

        /// <summary>Current state; Receiving decays to Listening/Connected when packets stop.</summary>
        public ConnectionState State
        {
            get
            {
                var s = (ConnectionState)Volatile.Read(ref state);
                if (s == ConnectionState.Receiving && SecondsSinceLastPacket > StaleAfterSeconds)
                {
                    return kind == TransportKind.VmcUdp ? ConnectionState.Listening : ConnectionState.Connected;
                }
                return s;
            }
        }

        /// <summary>Why the last bind/connect failed or what the connection is doing, for the inspector.</summary>
        public string StateDetail
        {
            get { return Volatile.Read(ref stateDetail); }
        }

        public long PacketsReceived
        {
            get { return Interlocked.Read(ref packets); }
        }

        public long FramesDecoded
        {
            get { return Interlocked.Read(ref frames); }
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

        public void Start()
        {
            if (cancel != null)
            {
                return;
            }
            cancel = new CancellationTokenSource();
            if (kind == TransportKind.VmcUdp)
            {
                udpThread = new Thread(RunUdp) { IsBackground = true, Name = "AvatarBridge VMC receiver" };
                udpThread.Start(cancel.Token);
            }
            else
            {
                CancellationToken token = cancel.Token;
                webSocketTask = Task.Run(() => RunWebSocketAsync(token));
            }
        }

        /// <summary>Stops the network thread and waits briefly for it, so a domain reload never leaves a socket bound.</summary>
        public void Stop()
        {
            if (cancel == null)
            {
                return;
            }
            ClientWebSocket ws = Volatile.Read(ref socket);
            if (ws != null)
            {
                CloseGracefully(ws);
            }
            cancel.Cancel();
            if (ws != null)
            {
                ws.Abort();
            }
            if (udpThread != null)
            {
                udpThread.Join(1000);
            }
            if (webSocketTask != null)
            {
                webSocketTask.Wait(1000);
            }
            cancel.Dispose();
            cancel = null;
            udpThread = null;
            webSocketTask = null;
            SetState(ConnectionState.Stopped, "");
        }

        public void Dispose()
        {
            Stop();
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
        /// Sends a control command ("calibrate", "reload_config", "pause", "resume", "ping") over the
        /// WebSocket and returns its id, or -1 when not connected. The reply arrives later through
        /// <see cref="TryDequeueReply"/>.
        /// </summary>
        public int SendCommand(string command)
        {
            ClientWebSocket ws = Volatile.Read(ref socket);
            if (kind != TransportKind.WebSocket || ws == null || ws.State != WebSocketState.Open)
            {
                return -1;
            }
            int id = Interlocked.Increment(ref nextCommandId);
            byte[] json = Encoding.UTF8.GetBytes("{\"type\":\"" + JsonEscape(command) + "\",\"id\":" + id + "}");
            CancellationToken token = cancel.Token;
            Task.Run(async () =>
            {
                bool entered = false;
                try
                {
                    await sendLock.WaitAsync(token).ConfigureAwait(false);
                    entered = true;
                    await ws.SendAsync(new ArraySegment<byte>(json), WebSocketMessageType.Text, true, token).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    if (!token.IsCancellationRequested)
                    {
                        Volatile.Write(ref stateDetail, "sending '" + command + "' failed: " + Innermost(e).Message);
                    }
                }
                finally
                {
                    if (entered)
                    {
                        sendLock.Release();
                    }
                }
            });
            return id;
        }

        private void RunUdp(object tokenObject)
        {
            var token = (CancellationToken)tokenObject;
            var buffer = new byte[65536];
            var parser = new OscParser();
            var decoder = new VmcDecoder(new StringCache());
            FrameData pending = exchange.WriteBuffer;
            int backoff = FirstBackoffMs;
            while (!token.IsCancellationRequested)
            {
                Socket udp = null;
                try
                {
                    udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                    udp.Bind(new IPEndPoint(IPAddress.Any, port));
                    SetState(ConnectionState.Listening, "listening on UDP port " + port);
                    backoff = FirstBackoffMs;
                    while (!token.IsCancellationRequested)
                    {
                        if (!udp.Poll(100000, SelectMode.SelectRead))
                        {
                            continue;
                        }
                        int n;
                        try
                        {
                            n = udp.Receive(buffer, 0, buffer.Length, SocketFlags.None);
                        }
                        catch (SocketException e) when (e.SocketErrorCode == SocketError.MessageSize || e.SocketErrorCode == SocketError.ConnectionReset)
                        {
                            errors.Add(DecodeResult.Fail(ProtocolError.MessageTooLarge, "UDP datagram larger than 64 KiB or reset by the network stack", 0));
                            continue;
                        }
                        MarkPacket();
                        pending = HandleDatagram(parser, decoder, buffer, n, pending);
                    }
                }
                catch (SocketException e)
                {
                    if (token.IsCancellationRequested)
                    {
                        break;
                    }
                    SetState(ConnectionState.Retrying, e.SocketErrorCode == SocketError.AddressAlreadyInUse
                        ? "UDP port " + port + " is in use by another program (another VMC receiver?)"
                        : "UDP error: " + e.Message);
                }
                catch (ObjectDisposedException)
                {
                    break;
                }
                finally
                {
                    if (udp != null)
                    {
                        udp.Close();
                    }
                }
                if (token.WaitHandle.WaitOne(backoff))
                {
                    break;
                }
                backoff = Math.Min(backoff * 2, MaxBackoffMs);
            }
        }

        /// <summary>Parses one datagram; a frame may end mid-datagram, so several can complete here.</summary>
        private FrameData HandleDatagram(OscParser parser, VmcDecoder decoder, byte[] buffer, int length, FrameData pending)
        {
            DecodeResult parsed = parser.Parse(buffer, 0, length);
            if (!parsed.Ok)
            {
                errors.Add(parsed);
                return pending;
            }
            int index = 0;
            while (index < parser.Count)
            {
                bool complete;
                DecodeResult r = decoder.Decode(parser, ref index, pending, out complete);
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
            return pending;
        }

        private async Task RunWebSocketAsync(CancellationToken token)
        {
            Uri uri;
            if (!Uri.TryCreate(url, UriKind.Absolute, out uri) || (uri.Scheme != "ws" && uri.Scheme != "wss"))
            {
                SetState(ConnectionState.Stopped, "'" + url + "' is not a ws:// or wss:// URL");
                return;
            }
            int backoff = FirstBackoffMs;
            var decoder = new WsMessageDecoder(new StringCache());
            byte[] buffer = new byte[16384];
            FrameData pending = exchange.WriteBuffer;
            while (!token.IsCancellationRequested)
            {
                using (var ws = new ClientWebSocket())
                {
                    try
                    {
                        SetState(ConnectionState.Connecting, "connecting to " + url);
                        await ws.ConnectAsync(uri, token).ConfigureAwait(false);
                        Volatile.Write(ref socket, ws);
                        SetState(ConnectionState.Connected, "connected to " + url);
                        backoff = FirstBackoffMs;
                        while (ws.State == WebSocketState.Open && !token.IsCancellationRequested)
                        {
                            int length = 0;
                            bool tooLarge = false;
                            ValueWebSocketReceiveResult r;
                            do
                            {
                                if (length == buffer.Length)
                                {
                                    if (buffer.Length < MaxMessageBytes)
                                    {
                                        Array.Resize(ref buffer, buffer.Length * 2);
                                    }
                                    else
                                    {
                                        tooLarge = true;
                                        length = 0;
                                    }
                                }
                                r = await ws.ReceiveAsync(new Memory<byte>(buffer, length, buffer.Length - length), token).ConfigureAwait(false);
                                length += r.Count;
                            }
                            while (!r.EndOfMessage && r.MessageType != WebSocketMessageType.Close);
                            if (r.MessageType == WebSocketMessageType.Close)
                            {
                                SetState(ConnectionState.Retrying, "server closed the connection");
                                break;
                            }
                            MarkPacket();
                            if (tooLarge)
                            {
                                errors.Add(DecodeResult.Fail(ProtocolError.MessageTooLarge, "WebSocket message over 1 MiB ignored", 0));
                            }
                            else if (r.MessageType == WebSocketMessageType.Binary)
                            {
                                errors.Add(DecodeResult.Fail(ProtocolError.BinaryMessage, "binary WebSocket message ignored (the stream is JSON text)", 0));
                            }
                            else
                            {
                                pending = HandleMessage(decoder, buffer, length, pending);
                            }
                        }
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                    catch (Exception e)
                    {
                        if (token.IsCancellationRequested)
                        {
                            break;
                        }
                        SetState(ConnectionState.Retrying, "WebSocket " + url + ": " + Innermost(e).Message);
                    }
                    finally
                    {
                        Volatile.Write(ref socket, null);
                    }
                }
                try
                {
                    await Task.Delay(backoff, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                backoff = Math.Min(backoff * 2, MaxBackoffMs);
            }
        }

        /// <summary>Sends a close frame (briefly waited for) so the sidecar sees a clean disconnect, not a dropped socket.</summary>
        private static void CloseGracefully(ClientWebSocket ws)
        {
            try
            {
                if (ws.State == WebSocketState.Open)
                {
                    ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "receiver stopped", CancellationToken.None).Wait(500);
                }
            }
            catch (Exception)
            {
                // The socket is aborted right after; a failed polite close changes nothing.
            }
        }

        private FrameData HandleMessage(WsMessageDecoder decoder, byte[] buffer, int length, FrameData pending)
        {
            WsMessageKind messageKind;
            DecodeResult r = decoder.Decode(buffer, 0, length, pending, out messageKind);
            if (!r.Ok)
            {
                errors.Add(r);
                return pending;
            }
            switch (messageKind)
            {
                case WsMessageKind.Hello:
                    Volatile.Write(ref hello, decoder.Hello);
                    break;
                case WsMessageKind.Reply:
                    if (replies.Count < MaxQueued)
                    {
                        replies.Enqueue(decoder.LastReply);
                    }
                    break;
                case WsMessageKind.Frame:
                    for (int i = 0; i < pending.EventCount && events.Count < MaxQueued; i++)
                    {
                        events.Enqueue(pending.Events[i]);
                    }
                    Interlocked.Increment(ref frames);
                    pending = exchange.Publish();
                    break;
            }
            return pending;
        }

        private void MarkPacket()
        {
            Interlocked.Increment(ref packets);
            Interlocked.Exchange(ref lastPacketTicks, clock.ElapsedTicks);
            if (Volatile.Read(ref state) != (int)ConnectionState.Receiving)
            {
                SetState(ConnectionState.Receiving, kind == TransportKind.VmcUdp ? "receiving VMC on UDP port " + port : "receiving from " + url);
            }
        }

        private void SetState(ConnectionState s, string detail)
        {
            Volatile.Write(ref stateDetail, detail);
            Volatile.Write(ref state, (int)s);
        }

        private static Exception Innermost(Exception e)
        {
            while (e.InnerException != null)
            {
                e = e.InnerException;
            }
            return e;
        }

        private static string JsonEscape(string s)
        {
            var b = new StringBuilder(s.Length);
            foreach (char c in s)
            {
                if (c == '"' || c == '\\')
                {
                    b.Append('\\').Append(c);
                }
                else if (c >= ' ')
                {
                    b.Append(c);
                }
            }
            return b.ToString();
        }
    }
}
