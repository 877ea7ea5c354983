using System;
using AvatarBridge.Protocol;
using UnityEngine;

namespace AvatarBridge
{
    /// <summary>
    /// Receives the avatar-bridge sidecar's stream (VMC over UDP, or the WebSocket JSON stream) and
    /// exposes the newest frame to the drivers. Network I/O and decoding run on the background
    /// thread of the <see cref="BridgeConnection"/>'s transport (<see cref="UdpTransport"/> or
    /// <see cref="WebSocketTransport"/>); this component only swaps in the latest decoded frame once
    /// per Update (no locks, no allocation), forwards events and replies, and reports problems to
    /// the console once per kind. It runs before other scripts so drivers see this frame's data.
    /// </summary>
    [DefaultExecutionOrder(-100)]
    [DisallowMultipleComponent]
    [AddComponentMenu("Avatar Bridge/Avatar Bridge Receiver")]
    public sealed class AvatarBridgeReceiver : MonoBehaviour
    {
        public const int DefaultVmcPort = 39539;
        public const string DefaultWebSocketUrl = "ws://127.0.0.1:8765";

        [Tooltip("VMC (OSC over UDP) carries blendshapes and bones. WebSocket also carries events (expressions, actions) and accepts commands such as calibrate.")]
        [SerializeField] private TransportKind transport = TransportKind.VmcUdp;

        [Tooltip("UDP port to listen on for VMC; the sidecar sends to 39539 by default.")]
        [SerializeField] private int vmcPort = DefaultVmcPort;

        [Tooltip("The sidecar's WebSocket address.")]
        [SerializeField] private string webSocketUrl = DefaultWebSocketUrl;

        [Tooltip("Which tracked person to follow over the WebSocket: the one in this slot (1 is the first person, the only one of a one-person run). With several people, give each avatar its own receiver and slot. VMC ignores this: the sidecar sends each slot to its own port.")]
        [Range(1, WsMessageDecoder.MaxSlot)]
        [SerializeField] private int followSlot = 1;

        [Tooltip("Follow the person with this enrolled name wherever they are, instead of the slot; empty follows the slot. While nobody has the name, the avatar holds its last pose (never someone else's). WebSocket only.")]
        [SerializeField] private string followName = "";

        [Tooltip("Log a warning the first time each kind of malformed packet arrives.")]
        [SerializeField] private bool logBadPackets = true;

        private BridgeConnection connection;
        private TransportKind connectedTransport;
        private int connectedPort;
        private string connectedUrl;
        private FrameData latest;
        private int frameVersion;
        private ConnectionState lastLoggedState = ConnectionState.Stopped;
        private string lastLoggedDetail = "";

        /// <summary>
        /// Raised on the main thread for every event in the received frames (WebSocket only), in
        /// order, including events of frames that were superseded before Update ran.
        /// </summary>
        public event Action<BridgeEvent> EventReceived;

        /// <summary>Raised on the main thread when the sidecar answers a command.</summary>
        public event Action<ReplyData> ReplyReceived;

        public TransportKind Transport
        {
            get { return transport; }
            set { transport = value; Restart(); }
        }

        public int VmcPort
        {
            get { return vmcPort; }
            set { vmcPort = value; Restart(); }
        }

        public string WebSocketUrl
        {
            get { return webSocketUrl; }
            set { webSocketUrl = value; Restart(); }
        }

        /// <summary>
        /// The slot of the person this receiver follows while <see cref="FollowName"/> is empty
        /// (1..4, default 1). Frames without that person leave <see cref="LatestFrame"/> as it was.
        /// Changing it needs no reconnect.
        /// </summary>
        public int FollowSlot
        {
            get { return followSlot; }
            set
            {
                followSlot = Mathf.Clamp(value, 1, WsMessageDecoder.MaxSlot);
                ApplyFollow();
            }
        }

        /// <summary>
        /// When not empty, the receiver follows the person with this enrolled name wherever they are
        /// (slot ignored); while nobody has it, <see cref="LatestFrame"/> stays as it was. Changing it
        /// needs no reconnect.
        /// </summary>
        public string FollowName
        {
            get { return followName; }
            set
            {
                followName = value ?? "";
                ApplyFollow();
            }
        }

        /// <summary>WebSocket frames received that did not hold the person followed.</summary>
        public long FramesWithoutPerson
        {
            get { return connection != null ? connection.FramesWithoutPerson : 0; }
        }

        /// <summary>
        /// The newest frame, or null before the first one. Valid until the next Update; read it
        /// every frame instead of keeping the reference, because its buffer is then recycled.
        /// </summary>
        public FrameData LatestFrame
        {
            get { return latest; }
        }

        /// <summary>Increments whenever <see cref="LatestFrame"/> changes, so drivers apply each frame once.</summary>
        public int FrameVersion
        {
            get { return frameVersion; }
        }

        public ConnectionState State
        {
            get { return connection != null ? connection.State : ConnectionState.Stopped; }
        }

        public string StateDetail
        {
            get { return connection != null ? connection.StateDetail : ""; }
        }

        public long PacketsReceived
        {
            get { return connection != null ? connection.PacketsReceived : 0; }
        }

        public long FramesDecoded
        {
            get { return connection != null ? connection.FramesDecoded : 0; }
        }

        public int BadPackets
        {
            get { return connection != null ? connection.Errors.Total : 0; }
        }

        /// <summary>The channel names announced by the WebSocket server, or null.</summary>
        public HelloData Hello
        {
            get { return connection != null ? connection.Hello : null; }
        }

        /// <summary>Asks the sidecar to recalibrate the neutral face (WebSocket only). Returns false when not connected.</summary>
        public bool Calibrate()
        {
            return Send(ControlCommands.Calibrate());
        }

        /// <summary>Sends a control command without arguments by name: calibrate, reload_config, pause, resume, ping, save_config.</summary>
        public bool SendCommand(string command)
        {
            return Send(ControlCommands.Named(command));
        }

        /// <summary>
        /// Sends any of the sidecar's control commands, built with <see cref="ControlCommands"/>
        /// (e.g. <c>ControlCommands.SetPreset("vrm1")</c>); WebSocket only. Its reply arrives
        /// through <see cref="ReplyReceived"/>; a rejected one is also logged.
        /// </summary>
        public bool Send(ControlCommand command)
        {
            if (connection == null || transport != TransportKind.WebSocket)
            {
                Debug.LogWarning("[Avatar Bridge] Commands need the WebSocket transport; '" + command.Type + "' was not sent.", this);
                return false;
            }
            if (connection.Send(command) < 0)
            {
                Debug.LogWarning("[Avatar Bridge] Not connected to " + webSocketUrl + "; '" + command.Type + "' was not sent.", this);
                return false;
            }
            return true;
        }

        private void OnEnable()
        {
            StartConnection();
        }

        private void OnDisable()
        {
            StopConnection();
        }

        private void OnValidate()
        {
            vmcPort = Mathf.Clamp(vmcPort, 1, 65535);
            followSlot = Mathf.Clamp(followSlot, 1, WsMessageDecoder.MaxSlot);
            followName = followName ?? "";
            ApplyFollow();
            if (connection != null && (connectedTransport != transport || connectedPort != vmcPort || connectedUrl != webSocketUrl))
            {
                Restart();
            }
        }

        private void Update()
        {
            if (connection == null)
            {
                return;
            }
            if (connection.TryTakeFrame(ref latest))
            {
                frameVersion++;
            }
            BridgeEvent e;
            while (connection.TryDequeueEvent(out e))
            {
                if (EventReceived != null)
                {
                    EventReceived(e);
                }
            }
            ReplyData reply;
            while (connection.TryDequeueReply(out reply))
            {
                if (!reply.Ok)
                {
                    Debug.LogWarning("[Avatar Bridge] Sidecar rejected '" + reply.Command + "': " + reply.Message, this);
                }
                if (ReplyReceived != null)
                {
                    ReplyReceived(reply);
                }
            }
            ReportProblems();
        }

        /// <summary>One console line per new error kind and per connection problem, never one per frame.</summary>
        private void ReportProblems()
        {
            DecodeResult first;
            while (connection.Errors.TryTakeUnreported(out first))
            {
                if (logBadPackets)
                {
                    Debug.LogWarning("[Avatar Bridge] Ignoring malformed " + (transport == TransportKind.VmcUdp ? "VMC packets" : "WebSocket messages")
                        + " (" + first + "). Further ones of this kind are only counted (see the receiver's inspector).", this);
                }
            }
            ConnectionState state = connection.State;
            if (state == ConnectionState.Retrying || state == ConnectionState.Stopped)
            {
                string detail = connection.StateDetail;
                if (detail.Length > 0 && (lastLoggedState != state || detail != lastLoggedDetail))
                {
                    if (state == ConnectionState.Retrying)
                    {
                        Debug.LogWarning("[Avatar Bridge] " + detail + " (retrying).", this);
                    }
                    else
                    {
                        Debug.LogError("[Avatar Bridge] " + detail + ": fix the receiver's settings.", this);
                    }
                    lastLoggedDetail = detail;
                }
            }
            lastLoggedState = state;
        }

        private void StartConnection()
        {
            latest = null;
            connectedTransport = transport;
            connectedPort = vmcPort;
            connectedUrl = webSocketUrl;
            connection = new BridgeConnection(transport, vmcPort, webSocketUrl);
            ApplyFollow();
            connection.Start();
        }

        private void ApplyFollow()
        {
            if (connection != null)
            {
                connection.FollowSlot = Mathf.Clamp(followSlot, 1, WsMessageDecoder.MaxSlot);
                connection.FollowName = followName;
            }
        }

        private void StopConnection()
        {
            if (connection != null)
            {
                connection.Dispose();
                connection = null;
            }
            latest = null;
            lastLoggedState = ConnectionState.Stopped;
            lastLoggedDetail = "";
        }

        private void Restart()
        {
            if (connection != null)
            {
                StopConnection();
                StartConnection();
            }
        }
    }
}
