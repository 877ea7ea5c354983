using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using AvatarBridge.Protocol;

namespace AvatarBridge
{
    /// <summary>
    /// Receives VMC (OSC over UDP) datagrams on one port with a background thread. A port held by
    /// another program (reported as such) or any socket error leads to a re-bind after a back-off; datagrams too
    /// large for the 64 KiB buffer are dropped and reported. Receive only: VMC has no replies.
    /// </summary>
    public sealed class UdpTransport : IBridgeTransport
    {
        private readonly int port;
        private readonly string endpoint;
        private readonly TransportStatus status = new TransportStatus();
        private CancellationTokenSource cancel;
        private Thread thread;
        private ITransportListener listener;

        public UdpTransport(int port)
        {
            this.port = port;
            endpoint = "UDP port " + port;
        }

        public TransportKind Kind
        {
            get { return TransportKind.VmcUdp; }
        }

        public int Port
        {
            get { return port; }
        }

        public string Endpoint
        {
            get { return endpoint; }
        }

        public ConnectionState State
        {
            get { return status.State; }
        }

        public string StateDetail
        {
            get { return status.Detail; }
        }

        public void Start(ITransportListener listener)
        {
            if (cancel != null)
            {
                return;
            }
            this.listener = listener;
            cancel = new CancellationTokenSource();
            thread = new Thread(Run) { IsBackground = true, Name = "AvatarBridge VMC receiver" };
            thread.Start(cancel.Token);
        }

        public void Stop()
        {
            if (cancel == null)
            {
                return;
            }
            cancel.Cancel();
            thread.Join(1000);
            cancel.Dispose();
            cancel = null;
            thread = null;
            status.Set(ConnectionState.Stopped, "");
        }

        public bool SendText(string text)
        {
            return false;
        }

        public void Dispose()
        {
            Stop();
        }

        private void Run(object tokenObject)
        {
            var token = (CancellationToken)tokenObject;
            var buffer = new byte[65536];
            while (!token.IsCancellationRequested)
            {
                Socket udp = null;
                try
                {
                    udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                    // Mono turns address reuse on by default, which lets two receivers share the port
                    // and one of them silently get nothing; a held port must fail the bind instead.
                    udp.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, false);
                    udp.Bind(new IPEndPoint(IPAddress.Any, port));
                    status.Set(ConnectionState.Listening, "listening on " + endpoint);
                    status.ResetBackoff();
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
                            listener.OnDropped(DecodeResult.Fail(ProtocolError.MessageTooLarge, "UDP datagram larger than 64 KiB or reset by the network stack", 0));
                            continue;
                        }
                        listener.OnReceived(buffer, n);
                    }
                }
                catch (SocketException e)
                {
                    if (token.IsCancellationRequested)
                    {
                        break;
                    }
                    status.Set(ConnectionState.Retrying, e.SocketErrorCode == SocketError.AddressAlreadyInUse
                        ? endpoint + " is in use by another program (another VMC receiver?)"
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
                if (token.WaitHandle.WaitOne(status.NextBackoffMs()))
                {
                    break;
                }
            }
        }
    }
}
