@icon("res://addons/avatar_bridge/icons/avatar_bridge.svg")
class_name AvatarBridgeReceiver
extends Node
## Receives face, body and trigger frames from the avatar-bridge sidecar.
##
## Two transports, chosen with [member transport]: the VMC protocol (OSC bundles over UDP,
## [member vmc_port], default 39539, [AvatarBridgeUdpTransport]) or the sidecar's WebSocket
## JSON stream ([member websocket_url], default ws://127.0.0.1:8765,
## [AvatarBridgeWebSocketTransport]), which also carries animation triggers
## ([signal event_received]) and control commands ([method send_control]). The transport is
## polled without blocking in [method Node._process] and reopens with exponential back-off;
## this node decodes what it delivers with [AvatarBridgeOscParser] and emits the results. A
## malformed packet never stops the game: it is dropped, counted in [member bad_packet_counts]
## and reported once per kind ([signal bad_packet] and one warning). Drivers
## ([AvatarBridgeDriver]) connect to [signal frame_received]; see [AvatarBridgeOscParser] for
## the frame Dictionary. Over the WebSocket (schema 3, and 2: each frame lists its people) the
## receiver follows one person: the one named [member follow_name] when that is set, else the one
## in [member follow_slot]. Values are in the wire's (Unity's) frame.

## The connection state changed; [param status] is a [enum Status] value.
signal connection_changed(status: int)
## A complete frame arrived (the newest one, once per process frame at most).
signal frame_received(frame: Dictionary)
## The WebSocket server's hello (channel lists, mirror flag, commands).
signal hello_received(hello: Dictionary)
## The sidecar's answer to [method send_command].
signal reply_received(reply: Dictionary)
## A trigger from a frame, e.g. {"type": "expression", "name": "happy", "state": "start"}.
## Emitted for every frame received, even those superseded before [signal frame_received].
signal event_received(event: Dictionary)
## The first bad packet of a [param kind] ("osc", "vmc", "json", "frame", "binary", "bind",
## "connect"); later ones of the same kind are only counted.
signal bad_packet(kind: String, message: String)

## How frames arrive.
enum Transport {
	VMC,  ## VMC protocol: OSC bundles on UDP [member vmc_port].
	WEBSOCKET,  ## The sidecar's JSON stream at [member websocket_url]; carries triggers too.
}

## Connection state, reported by [signal connection_changed].
enum Status {
	DISCONNECTED,  ## Stopped, or waiting to retry after a failure.
	CONNECTING,  ## WebSocket handshake in progress.
	CONNECTED,  ## Socket open (UDP port bound) but no frame for [member stale_after] seconds.
	RECEIVING,  ## Frames are arriving.
}

const DEFAULT_VMC_PORT := 39539
const DEFAULT_WEBSOCKET_URL := "ws://127.0.0.1:8765"

## Which transport to use. Changing it while running restarts the receiver.
@export var transport: Transport = Transport.WEBSOCKET:
	set(value):
		transport = value
		if _running:
			restart()
## Start receiving when the node enters the tree.
@export var autostart: bool = true
## Seconds without a frame after which the status drops from RECEIVING to CONNECTED.
@export_range(0.1, 10.0, 0.1, "suffix:s") var stale_after: float = 1.0
## Packets handled per process frame at most (the rest wait for the next frame).
@export_range(1, 4096) var max_packets_per_frame: int = 256

@export_group("VMC")
## UDP port to listen on (the sidecar's [code]vmc.port[/code]).
@export_range(1, 65535) var vmc_port: int = DEFAULT_VMC_PORT
## Address to bind: "127.0.0.1" accepts only this machine, "*" every interface.
@export var vmc_bind_address: String = "127.0.0.1"

@export_group("WebSocket")
## The sidecar's WebSocket server.
@export var websocket_url: String = DEFAULT_WEBSOCKET_URL
## Which tracked person to follow: the one in this slot of the frames' [code]people[/code]
## (1 is the first person, the only one of a one-person run); with several people, give each
## avatar its own receiver and slot. VMC ignores this: the sidecar sends each slot to its own
## port. Takes effect from the next message, with no reconnect.
@export_range(1, 4) var follow_slot: int = 1
## Follow the person with this enrolled name wherever they are, instead of [member follow_slot];
## empty follows the slot. While nobody has the name, frames are skipped and the avatar holds its
## last pose, never someone else's. Takes effect from the next message, with no reconnect.
@export var follow_name: String = ""
## First delay before reconnecting after a failure; doubles up to [member reconnect_delay_max].
@export_range(0.1, 10.0, 0.1, "suffix:s") var reconnect_delay_min: float = 0.5
## Longest delay between reconnection attempts.
@export_range(0.5, 60.0, 0.5, "suffix:s") var reconnect_delay_max: float = 5.0

## Current [enum Status] (read only).
var status: Status = Status.DISCONNECTED
## Last hello from the WebSocket server ({} before the first one, or with VMC).
var hello: Dictionary = {}
## Last complete frame.
var last_frame: Dictionary = {}
## Bad packets dropped so far, by kind.
var bad_packet_counts: Dictionary = {}
## WebSocket frames that did not hold the person followed (so nothing was applied for them).
var frames_without_person: int = 0

var _running: bool = false
var _transport: AvatarBridgeTransport = null
var _last_frame_ms: int = -1
var _pending: Dictionary = {}


func _ready() -> void:
	if autostart and not Engine.is_editor_hint():
		start()


func _exit_tree() -> void:
	stop()


func _process(_delta: float) -> void:
	if not _running:
		return
	var now := Time.get_ticks_msec()
	var packets := _transport.poll(now, max_packets_per_frame)
	_follow_transport()
	var latest: Dictionary = {}
	for packet in packets:
		var frame: Dictionary = (
			_handle_datagram(packet) if transport == Transport.VMC else _handle_text(packet)
		)
		if not frame.is_empty():
			latest = frame
	if not latest.is_empty():
		last_frame = latest
		_last_frame_ms = now
		_set_status(Status.RECEIVING)
		frame_received.emit(latest)
	elif status == Status.RECEIVING and now - _last_frame_ms > int(stale_after * 1000.0):
		_set_status(Status.CONNECTED)


## Starts listening (VMC) or connecting (WebSocket). Called on ready when [member autostart].
func start() -> void:
	stop()
	_running = true
	if transport == Transport.VMC:
		_transport = AvatarBridgeUdpTransport.new(vmc_port, vmc_bind_address)
	else:
		_transport = AvatarBridgeWebSocketTransport.new(websocket_url)
	_transport.set_retry_delays(reconnect_delay_min, reconnect_delay_max)
	_transport.problem.connect(_report_bad)
	_pending = AvatarBridgeOscParser.new_frame("vmc")
	set_process(true)


## Closes the socket and stops processing; the status becomes DISCONNECTED.
func stop() -> void:
	_running = false
	if _transport != null:
		_transport.close()
		_transport = null
	hello = {}
	_set_status(Status.DISCONNECTED)


## [method stop] then [method start], e.g. after changing the port or URL.
func restart() -> void:
	start()


## The receiver a driver uses when none is assigned: the first AvatarBridgeReceiver found by
## looking at [param node]'s parent and its children, then one level up, and so on to the root.
static func find_for(node: Node) -> AvatarBridgeReceiver:
	var level := node.get_parent()
	while level != null:
		if level is AvatarBridgeReceiver:
			return level as AvatarBridgeReceiver
		for child in level.get_children():
			if child is AvatarBridgeReceiver:
				return child as AvatarBridgeReceiver
		level = level.get_parent()
	return null


## True while frames are arriving.
func is_receiving() -> bool:
	return status == Status.RECEIVING


## Sends a control command without arguments ("calibrate", "reload_config", "pause", "resume",
## "ping", "save_config"; see hello's "commands"); see [method send_control].
func send_command(command: String, id: Variant = null) -> Error:
	return send_control({"type": command}, id)


## Sends a control message built with [AvatarBridgeControlCommands], e.g.
## [code]send_control(AvatarBridgeControlCommands.set_shape("jawOpen", "gain", 1.2))[/code].
## [param id], a String or int, comes back in the [signal reply_received] reply. Returns
## ERR_UNAVAILABLE unless the WebSocket is open, ERR_INVALID_PARAMETER for a number that is
## not finite.
func send_control(message: Dictionary, id: Variant = null) -> Error:
	if _transport == null:
		return ERR_UNAVAILABLE
	var text := AvatarBridgeControlCommands.encode(message, id)
	if text.is_empty():
		return ERR_INVALID_PARAMETER
	return _transport.send_text(text)


## Mirrors the transport's state in [member status]; a connection that closes forgets hello.
func _follow_transport() -> void:
	match _transport.state:
		AvatarBridgeTransport.State.CLOSED:
			if status != Status.DISCONNECTED:
				hello = {}
				_set_status(Status.DISCONNECTED)
		AvatarBridgeTransport.State.CONNECTING:
			_set_status(Status.CONNECTING)
		AvatarBridgeTransport.State.OPEN:
			if status == Status.DISCONNECTED or status == Status.CONNECTING:
				_set_status(Status.CONNECTED)


## Decodes one VMC datagram; returns the last frame it completed, or {}.
func _handle_datagram(packet: PackedByteArray) -> Dictionary:
	var parsed := AvatarBridgeOscParser.parse_packet(packet)
	if not parsed["ok"]:
		_report_bad("osc", parsed["error"])
		return {}
	var latest: Dictionary = {}
	var messages: Array[Dictionary] = parsed["messages"]
	for message in messages:
		var address: String = message["address"]
		var result := AvatarBridgeOscParser.apply_vmc_message(_pending, address, message["args"])
		if result == AvatarBridgeOscParser.VmcResult.FRAME_COMPLETE:
			latest = _pending
			_pending = AvatarBridgeOscParser.new_frame("vmc")
		elif result == AvatarBridgeOscParser.VmcResult.BAD_ARGUMENTS:
			_report_bad("vmc", "bad arguments for %s" % address)
	return latest


## Decodes one WebSocket text message; returns the frame it carried, or {}.
func _handle_text(packet: PackedByteArray) -> Dictionary:
	if not AvatarBridgeOscParser.is_valid_utf8(packet):
		_report_bad("json", "text message is not UTF-8")
		return {}
	var decoded := AvatarBridgeOscParser.decode_json_message(packet.get_string_from_utf8())
	if not decoded["ok"]:
		_report_bad("json", decoded["error"])
		return {}
	var message: Dictionary = decoded["message"]
	match decoded["type"]:
		"hello":
			hello = message
			hello_received.emit(message)
		"reply":
			reply_received.emit(message)
		"frame":
			var result := AvatarBridgeOscParser.frame_from_json(
				message, hello, follow_slot, follow_name
			)
			if not result["ok"]:
				_report_bad("frame", result["error"])
				return {}
			var frame: Dictionary = result["frame"]
			if frame.is_empty():
				frames_without_person += 1
				return {}
			var events: Array = frame["events"]
			for event: Dictionary in events:
				event_received.emit(event)
			return frame
	return {}


func _set_status(value: Status) -> void:
	if status == value:
		return
	status = value
	connection_changed.emit(value)


func _report_bad(kind: String, message: String) -> void:
	var count: int = bad_packet_counts.get(kind, 0)
	bad_packet_counts[kind] = count + 1
	if count == 0:
		var text := "AvatarBridgeReceiver: %s problem: %s" % [kind, message]
		push_warning(text + " (further ones of this kind are only counted in bad_packet_counts)")
		bad_packet.emit(kind, message)
