"""Stand-ins for the few ComfyUI modules the nodes touch: ``folder_paths``, ``comfy.utils``,
``comfy.model_management`` and ``comfy.model_patcher``, with the real functions' signatures (read from
ComfyUI 0.3.64) and just enough behaviour to observe what the nodes do with them.

They are never importable by their real names on their own: :func:`install` loads fresh copies and puts
them into ``sys.modules`` through a ``monkeypatch``, so they vanish when the test ends and no other test
sees a fake ``comfy``. :func:`load_pack` imports the pack the way ComfyUI does.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

HERE = Path(__file__).resolve().parent
PACK = HERE.parents[1]
"""The repository root: the folder users put into ComfyUI/custom_nodes/."""
MODULES = {
    "folder_paths": HERE / "folder_paths.py",
    "comfy": HERE / "comfy" / "__init__.py",
    "comfy.utils": HERE / "comfy" / "utils.py",
    "comfy.model_management": HERE / "comfy" / "model_management.py",
    "comfy.model_patcher": HERE / "comfy" / "model_patcher.py",
}


def _load(name: str, path: Path, monkeypatch) -> ModuleType:
    search = [str(path.parent)] if path.name == "__init__.py" else None
    spec = importlib.util.spec_from_file_location(name, path, submodule_search_locations=search)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)  # removed again (or restored) when the test ends
    spec.loader.exec_module(module)
    return module


def install(monkeypatch, base: Path) -> SimpleNamespace:
    """Fresh stand-ins in ``sys.modules`` for this test, with ComfyUI's folders under ``base``."""
    modules = {name: _load(name, path, monkeypatch) for name, path in MODULES.items()}
    for name in ("utils", "model_management", "model_patcher"):
        monkeypatch.setattr(modules["comfy"], name, modules[f"comfy.{name}"], raising=False)
    modules["folder_paths"]._use_base_path(Path(base))
    return SimpleNamespace(folder_paths=modules["folder_paths"], utils=modules["comfy.utils"],
                           model_management=modules["comfy.model_management"],
                           model_patcher=modules["comfy.model_patcher"])


def load_pack(name: str) -> ModuleType:
    """Import the pack as ComfyUI's ``load_custom_node`` does: its ``__init__.py`` as a package called
    ``name`` (a fresh name gives fresh copies of every module), the folder never on ``sys.path``."""
    spec = importlib.util.spec_from_file_location(name, PACK / "__init__.py", submodule_search_locations=[str(PACK)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
