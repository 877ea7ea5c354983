@tool
extends EditorPlugin
## Editor side of the Avatar Bridge addon.
##
## The node types (AvatarBridgeReceiver, AvatarBridgeBlendshapeDriver,
## AvatarBridgeSkeletonDriver, AvatarBridgeTriggerDriver, AvatarBridgeXRPublisher) and the
## AvatarBridgeBlendshapeMapping resource register themselves with [code]class_name[/code], so
## they appear in the Create Node and New Resource dialogs with their icons. This plugin adds
## one command, Project > Tools > "Avatar Bridge: Add Receiver and Drivers", which adds a
## receiver and wired drivers under the selected node (the avatar), pointing the blendshape
## driver at that node's meshes and the skeleton driver at the first Skeleton3D under it.

const MENU_ITEM := "Avatar Bridge: Add Receiver and Drivers"
const RECEIVER_SCRIPT := preload("res://addons/avatar_bridge/receiver.gd")
const BLENDSHAPE_DRIVER_SCRIPT := preload("res://addons/avatar_bridge/blendshape_driver.gd")
const SKELETON_DRIVER_SCRIPT := preload("res://addons/avatar_bridge/skeleton_driver.gd")
const TRIGGER_DRIVER_SCRIPT := preload("res://addons/avatar_bridge/trigger_driver.gd")


func _enter_tree() -> void:
	add_tool_menu_item(MENU_ITEM, _add_receiver_and_drivers)


func _exit_tree() -> void:
	remove_tool_menu_item(MENU_ITEM)


func _add_receiver_and_drivers() -> void:
	var scene_root := EditorInterface.get_edited_scene_root()
	if scene_root == null:
		push_warning("Avatar Bridge: open a scene first.")
		return
	var selected := EditorInterface.get_selection().get_selected_nodes()
	var avatar: Node = scene_root if selected.is_empty() else selected[0]

	# Scripts are attached with set_script, not Class.new(): in the editor that gives the
	# usual placeholder instances, so the (non-tool) receiver does not start listening here.
	var receiver := _new_node(RECEIVER_SCRIPT, "AvatarBridgeReceiver")
	var blendshapes := _new_node(BLENDSHAPE_DRIVER_SCRIPT, "BlendshapeDriver")
	blendshapes.set(&"target", avatar)
	var skeleton_driver := _new_node(SKELETON_DRIVER_SCRIPT, "SkeletonDriver")
	skeleton_driver.set(&"skeleton", _find_skeleton(avatar))
	var triggers := _new_node(TRIGGER_DRIVER_SCRIPT, "TriggerDriver")

	var undo_redo := get_undo_redo()
	undo_redo.create_action("Add Avatar Bridge receiver and drivers")
	undo_redo.add_do_method(avatar, "add_child", receiver, true)
	undo_redo.add_do_method(receiver, "set_owner", scene_root)
	undo_redo.add_undo_method(avatar, "remove_child", receiver)
	undo_redo.add_do_reference(receiver)
	for driver: Node in [blendshapes, skeleton_driver, triggers]:
		undo_redo.add_do_method(receiver, "add_child", driver, true)
		undo_redo.add_do_method(driver, "set_owner", scene_root)
		undo_redo.add_do_reference(driver)
	undo_redo.commit_action()


func _new_node(script: Script, node_name: String) -> Node:
	var node := Node.new()
	node.set_script(script)
	node.name = node_name
	return node


## The first Skeleton3D at or under [param node], or null.
func _find_skeleton(node: Node) -> Skeleton3D:
	if node is Skeleton3D:
		return node as Skeleton3D
	for child in node.get_children():
		var found := _find_skeleton(child)
		if found != null:
			return found
	return null
