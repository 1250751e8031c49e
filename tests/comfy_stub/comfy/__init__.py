"""Stand-in for ComfyUI's ``comfy`` package (see tests/comfy_stub/__init__.py)."""
