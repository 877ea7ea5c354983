@icon("res://addons/avatar_bridge/icons/avatar_bridge.svg")
class_name AvatarBridgeDriver
extends Node
## Base class of the Avatar Bridge drivers: keeps the connection to an [AvatarBridgeReceiver].
##
## Subclasses override [method apply_frame] (called for every [signal
## AvatarBridgeReceiver.frame_received]), [method handle_event] (every [signal
## AvatarBridgeReceiver.event_received]) and [method reset_driven] (when the receiver
## disconnects, if [member reset_on_disconnect]), and call [code]super()[/code] from their own
## [method Node._ready]. [method _on_status_changed] sees every [signal
## AvatarBridgeReceiver.connection_changed].

## The receiver to follow. When empty, the nearest one is used (see
## [method AvatarBridgeReceiver.find_for]): put the drivers beside or below the receiver.
@export var receiver: AvatarBridgeReceiver:
	set(value):
		_disconnect_receiver()
		receiver = value
		_connect_receiver()
## Return what this driver drives to rest when the receiver disconnects (see
## [method reset_driven]), instead of holding the last received pose.
@export var reset_on_disconnect: bool = true

var _connected_receiver: AvatarBridgeReceiver = null


func _ready() -> void:
	if receiver == null:
		receiver = AvatarBridgeReceiver.find_for(self)
	_connect_receiver()


## Applies one frame (see [AvatarBridgeOscParser] for its keys). Override.
func apply_frame(_frame: Dictionary) -> void:
	pass


## Handles one trigger event (see [AvatarBridgeTriggerDriver]). Override.
func handle_event(_event: Dictionary) -> void:
	pass


## Returns what this driver drives to its rest state: blend shapes to 0, bones to their rest
## pose, held triggers ended. Override.
func reset_driven() -> void:
	pass


## The receiver's [enum AvatarBridgeReceiver.Status] changed: calls [method reset_driven] on a
## disconnection when [member reset_on_disconnect]. Override to react to other changes too.
func _on_status_changed(status: int) -> void:
	if status == AvatarBridgeReceiver.Status.DISCONNECTED and reset_on_disconnect:
		reset_driven()


func _connect_receiver() -> void:
	if receiver == null or not is_inside_tree() or _connected_receiver == receiver:
		return
	receiver.frame_received.connect(apply_frame)
	receiver.event_received.connect(handle_event)
	receiver.connection_changed.connect(_on_status_changed)
	_connected_receiver = receiver


func _disconnect_receiver() -> void:
	if _connected_receiver == null:
		return
	if is_instance_valid(_connected_receiver):
		if _connected_receiver.frame_received.is_connected(apply_frame):
			_connected_receiver.frame_received.disconnect(apply_frame)
		if _connected_receiver.event_received.is_connected(handle_event):
			_connected_receiver.event_received.disconnect(handle_event)
		if _connected_receiver.connection_changed.is_connected(_on_status_changed):
			_connected_receiver.connection_changed.disconnect(_on_status_changed)
	_connected_receiver = null
