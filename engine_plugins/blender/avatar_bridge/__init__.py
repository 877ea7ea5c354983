"""Avatar Bridge for Blender: drive an armature and shape keys live from the avatar-bridge sidecar
(VMC over UDP or its WebSocket), and record the motion into Actions.

The bpy modules are imported in register() so that the wire, names and convert modules can be
imported (and tested) by plain Python without Blender."""


def register():
    from . import props, ui
    props.register()
    ui.register()


def unregister():
    from . import driver, props, ui
    driver.stop()
    ui.unregister()
    props.unregister()
