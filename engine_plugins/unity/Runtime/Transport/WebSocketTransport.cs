using System;
using System.Net.WebSockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using AvatarBridge.Protocol;

namespace AvatarBridge
{
    /// <summary>
    /// A WebSocket client for the sidecar's JSON stream, run as one background task: connects,
    /// reassembles each text message (up to <see cref="MaxMessageBytes"/>), reconnects with back-off
    /// when the connection fails or drops, and sends text messages one at a time. Binary and
    /// oversized messages are dropped and reported; Stop closes politely so the sidecar sees a clean
    /// disconnect.
    /// </summary>
    public sealed class WebSocketTransport : IBridgeTransport
    {
        /// <summary>Largest message accepted; a frame with 52 shapes is ~2 KB.</summary>
        public const int MaxMessageBytes = 1 << 20;

        private readonly string url;
        private readonly TransportStatus status = new TransportStatus();
        private readonly SemaphoreSlim sendLock = new SemaphoreSlim(1, 1);
        private CancellationTokenSource cancel;
        private Task task;
        private ClientWebSocket socket;
        private ITransportListener listener;

        public WebSocketTransport(string url)
        {
            this.url = url;
        }

        public TransportKind Kind
        {
            get { return TransportKind.WebSocket; }
        }

        public string Url
        {
            get { return url; }
        }

        public string Endpoint
        {
            get { return url; }
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
            CancellationToken token = cancel.Token;
            task = Task.Run(() => RunAsync(token));
        }

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
            task.Wait(1000);
            cancel.Dispose();
            cancel = null;
            task = null;
            status.Set(ConnectionState.Stopped, "");
        }

        public void Dispose()
        {
            Stop();
        }

        /// <summary>Sends on a worker task, one message at a time; a failure shows in <see cref="StateDetail"/>.</summary>
        public bool SendText(string text)
        {
            ClientWebSocket ws = Volatile.Read(ref socket);
            if (ws == null || ws.State != WebSocketState.Open || cancel == null)
            {
                return false;
            }
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            CancellationToken token = cancel.Token;
            Task.Run(async () =>
            {
                bool entered = false;
                try
                {
                    await sendLock.WaitAsync(token).ConfigureAwait(false);
                    entered = true;
                    await ws.SendAsync(new ArraySegment<byte>(bytes), WebSocketMessageType.Text, true, token).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    if (!token.IsCancellationRequested)
                    {
                        status.Detail = "sending a command failed: " + Innermost(e).Message;
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
            return true;
        }

        private async Task RunAsync(CancellationToken token)
        {
            Uri uri;
            if (!Uri.TryCreate(url, UriKind.Absolute, out uri) || (uri.Scheme != "ws" && uri.Scheme != "wss"))
            {
                status.Set(ConnectionState.Stopped, "'" + url + "' is not a ws:// or wss:// URL");
                return;
            }
            byte[] buffer = new byte[16384];
            while (!token.IsCancellationRequested)
            {
                using (var ws = new ClientWebSocket())
                {
                    try
                    {
                        status.Set(ConnectionState.Connecting, "connecting to " + url);
                        await ws.ConnectAsync(uri, token).ConfigureAwait(false);
                        Volatile.Write(ref socket, ws);
                        status.Set(ConnectionState.Connected, "connected to " + url);
                        status.ResetBackoff();
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
                                status.Set(ConnectionState.Retrying, "server closed the connection");
                                break;
                            }
                            if (tooLarge)
                            {
                                listener.OnDropped(DecodeResult.Fail(ProtocolError.MessageTooLarge, "WebSocket message over 1 MiB ignored", 0));
                            }
                            else if (r.MessageType == WebSocketMessageType.Binary)
                            {
                                listener.OnDropped(DecodeResult.Fail(ProtocolError.BinaryMessage, "binary WebSocket message ignored (the stream is JSON text)", 0));
                            }
                            else
                            {
                                listener.OnReceived(buffer, length);
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
                        status.Set(ConnectionState.Retrying, "WebSocket " + url + ": " + Innermost(e).Message);
                    }
                    finally
                    {
                        Volatile.Write(ref socket, null);
                    }
                }
                try
                {
                    await Task.Delay(status.NextBackoffMs(), token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
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

        private static Exception Innermost(Exception e)
        {
            while (e.InnerException != null)
            {
                e = e.InnerException;
            }
            return e;
        }
    }
}
