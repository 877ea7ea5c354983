@icon("res://addons/avatar_bridge/icons/avatar_bridge.svg")
class_name AvatarBridgeDriver
extends Node
## Base class of the Avatar Bridge drivers: keeps the connection to an [AvatarBridgeReceiver].
##
## Subclasses override [method apply_frame] (called for every [signal
## AvatarBridgeReceiver.frame_received]), [method handle_event] (every [signal
## AvatarBridgeReceiver.event_received]) and [method _on_status_changed] (every [signal
## AvatarBridgeReceiver.connection_changed]), and call [code]super()[/code] from their own
## [method Node._ready].

## The receiver to follow. When empty, the nearest one is used (see
## [method AvatarBridgeReceiver.find_for]): put the drivers beside or below the receiver.
@export var receiver: AvatarBridgeReceiver:
	set(value):
		_disconnect_receiver()
		receiver = value
		_connect_receiver()

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


## The receiver's [enum AvatarBridgeReceiver.Status] changed. Override.
func _on_status_changed(_status: int) -> void:
	pass


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
