class_name AvatarBridgeTransport
extends RefCounted
## Base of the receiver's transports: one socket, polled without blocking, reopened with back-off.
##
## [AvatarBridgeReceiver] calls [method poll] once per process frame and decodes the payloads it
## returns with [AvatarBridgeOscParser]; a transport knows nothing of the wire format. Problems
## worth one warning (a port in use, a refused connection, a binary message) are emitted as
## [signal problem] with the receiver's [signal AvatarBridgeReceiver.bad_packet] kind.
## Subclasses implement [method _open], [method _receive], [method close] and, when they can
## send, [method send_text].

## Something went wrong; [param kind] is "bind", "connect" or "binary".
signal problem(kind: String, message: String)

## Whether the socket is usable.
enum State {
	CLOSED,  ## Not open: stopped, or waiting to retry after a failure.
	CONNECTING,  ## WebSocket handshake in progress.
	OPEN,  ## Bound (UDP) or connected (WebSocket).
}

## Current [enum State] (read only).
var state: State = State.CLOSED
## First delay before reopening after a failure; doubles up to [member retry_delay_max].
var retry_delay_min: float = 0.5
## Longest delay between attempts.
var retry_delay_max: float = 5.0

var _retry_at_ms: int = 0
var _retry_delay: float = 0.5


## Sets the retry delays (seconds) and starts from the shortest.
func set_retry_delays(shortest: float, longest: float) -> void:
	retry_delay_min = shortest
	retry_delay_max = longest
	_retry_delay = shortest


## Opens the socket when it is closed and a retry is due, then returns the payloads that
## arrived (whole datagrams or text messages, at most [param max_packets]).
func poll(now: int, max_packets: int) -> Array[PackedByteArray]:
	if state == State.CLOSED:
		if now < _retry_at_ms:
			return []
		_open(now)
		if state == State.CLOSED:
			return []
	return _receive(now, max_packets)


## Closes the socket; the state becomes CLOSED. Override (and call [code]super()[/code]).
func close() -> void:
	state = State.CLOSED


## Sends one text message; ERR_UNAVAILABLE unless this transport can send now. Override.
func send_text(_text: String) -> Error:
	return ERR_UNAVAILABLE


## Opens the socket: [method _opened], [method _lost] on failure, or CONNECTING. Override.
func _open(_now: int) -> void:
	pass


## Reads what arrived while the state is CONNECTING or OPEN. Override.
func _receive(_now: int, _max_packets: int) -> Array[PackedByteArray]:
	return []


## The socket is usable: the next failure retries quickly again.
func _opened() -> void:
	state = State.OPEN
	_retry_delay = retry_delay_min


## The socket closed or could not open. A socket that was open is a disconnection (retried
## soon, no warning); a failed attempt is reported once as [param kind] and backs off.
func _lost(now: int, kind: String, message: String) -> void:
	if state == State.OPEN:
		_retry_delay = retry_delay_min
	else:
		problem.emit(kind, message)
	state = State.CLOSED
	_retry_at_ms = now + int(_retry_delay * 1000.0)
	_retry_delay = minf(_retry_delay * 2.0, retry_delay_max)
