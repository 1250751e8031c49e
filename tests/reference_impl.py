"""Import controlnet-aux 0.0.10's OpenPose modules as a test oracle.

The package's top-level ``__init__`` imports every annotator (and torchvision, which these machines
lack), so we register a bare package object for ``controlnet_aux`` and, during the import only, a
stub for the two torchvision names ``open_pose/face.py`` imports but never uses on our paths.
"""
import importlib
import importlib.util
import sys
import types


def load():
    """Return the reference ``controlnet_aux.open_pose`` package, or None when it is not installed."""
    if "controlnet_aux.open_pose" in sys.modules:
        return sys.modules["controlnet_aux.open_pose"]
    spec = importlib.util.find_spec("controlnet_aux")
    if spec is None or not spec.submodule_search_locations:
        return None
    package = types.ModuleType("controlnet_aux")
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules["controlnet_aux"] = package
    if "torchvision" in sys.modules or importlib.util.find_spec("torchvision") is not None:
        return importlib.import_module("controlnet_aux.open_pose")
    # The stub lives only while the reference imports, so libraries probing for torchvision later
    # (diffusers does) see that it is absent.
    transforms = types.ModuleType("torchvision.transforms")
    transforms.ToPILImage = transforms.ToTensor = object
    torchvision = types.ModuleType("torchvision")
    torchvision.transforms = transforms
    sys.modules.update({"torchvision": torchvision, "torchvision.transforms": transforms})
    try:
        return importlib.import_module("controlnet_aux.open_pose")
    finally:
        del sys.modules["torchvision"], sys.modules["torchvision.transforms"]
