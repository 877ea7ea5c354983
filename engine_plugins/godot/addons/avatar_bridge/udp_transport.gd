class_name AvatarBridgeUdpTransport
extends AvatarBridgeTransport
## VMC over UDP: a [PacketPeerUDP] bound to [member port] on [member bind_address].
##
## Receive only (VMC has no replies). A failed bind (the port held by another program) is
## reported as a "bind" problem and retried with back-off.

## UDP port to listen on.
var port: int
## Address to bind: "127.0.0.1" accepts only this machine, "*" every interface.
var bind_address: String

var _udp: PacketPeerUDP = null


func _init(udp_port: int, address: String) -> void:
	port = udp_port
	bind_address = address


func close() -> void:
	if _udp != null:
		_udp.close()
		_udp = null
	super()


func _open(now: int) -> void:
	var udp := PacketPeerUDP.new()
	var error := udp.bind(port, bind_address)
	if error != OK:
		_lost(
			now, "bind", "cannot bind UDP %s:%d (%s)" % [bind_address, port, error_string(error)]
		)
		return
	_udp = udp
	_opened()


func _receive(_now: int, max_packets: int) -> Array[PackedByteArray]:
	var packets: Array[PackedByteArray] = []
	var handled := 0
	while _udp.get_available_packet_count() > 0 and handled < max_packets:
		var packet := _udp.get_packet()
		handled += 1
		if _udp.get_packet_error() == OK:
			packets.append(packet)
	return packets
