"""ComfyUI entry point of the openpose-core node pack (safe to import without ComfyUI).

ComfyUI imports this folder as a package; everything below is reached through relative imports, and the
folder is never put on sys.path (our ``nodes`` package would shadow ComfyUI's ``nodes`` module)."""
from .nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
