class_name AvatarBridgeWebSocketTransport
extends AvatarBridgeTransport
## The sidecar's WebSocket JSON stream: a [WebSocketPeer] client of [member url].
##
## Delivers text messages; binary ones are dropped as a "binary" problem. A handshake that
## takes longer than [constant CONNECT_TIMEOUT_MS] or a refused connection is a "connect"
## problem; a connection that closes after it was open is retried soon without a warning.

## Longest WebSocket handshake before the attempt counts as failed.
const CONNECT_TIMEOUT_MS := 5000
## Largest message accepted; a frame with 52 shapes is about 2 KB.
const INBOUND_BUFFER_SIZE := 1 << 20

## The sidecar's WebSocket server.
var url: String

var _socket: WebSocketPeer = null
var _connect_started_ms: int = 0


func _init(websocket_url: String) -> void:
	url = websocket_url


func close() -> void:
	if _socket != null:
		_socket.close()
		_socket = null
	super()


func send_text(text: String) -> Error:
	if _socket == null or _socket.get_ready_state() != WebSocketPeer.STATE_OPEN:
		return ERR_UNAVAILABLE
	return _socket.send_text(text)


func _open(now: int) -> void:
	var socket := WebSocketPeer.new()
	socket.inbound_buffer_size = INBOUND_BUFFER_SIZE
	var error := socket.connect_to_url(url)
	if error != OK:
		_lost(now, "connect", "cannot connect to %s (%s)" % [url, error_string(error)])
		return
	_socket = socket
	_connect_started_ms = now
	state = State.CONNECTING


func _receive(now: int, max_packets: int) -> Array[PackedByteArray]:
	var packets: Array[PackedByteArray] = []
	_socket.poll()
	var ready_state := _socket.get_ready_state()
	if ready_state == WebSocketPeer.STATE_CONNECTING:
		if now - _connect_started_ms > CONNECT_TIMEOUT_MS:
			_drop(now, "connection to %s timed out" % url)
		return packets
	if ready_state == WebSocketPeer.STATE_CLOSED:
		_drop(now, "cannot connect to %s (close code %d)" % [url, _socket.get_close_code()])
		return packets
	if ready_state == WebSocketPeer.STATE_OPEN and state == State.CONNECTING:
		_opened()
	var handled := 0
	while _socket.get_available_packet_count() > 0 and handled < max_packets:
		var packet := _socket.get_packet()
		handled += 1
		if _socket.was_string_packet():
			packets.append(packet)
		else:
			problem.emit("binary", "binary WebSocket message of %d bytes" % packet.size())
	return packets


## Forgets the socket and schedules the next attempt (see [method AvatarBridgeTransport._lost]).
func _drop(now: int, reason: String) -> void:
	if _socket.get_ready_state() != WebSocketPeer.STATE_CLOSED:
		_socket.close()
	_socket = null
	_lost(now, "connect", reason)
