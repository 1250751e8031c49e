"""Stand-in for ComfyUI's ``folder_paths``: the model-folder registry and the input/output folders."""
from __future__ import annotations

import os
import time

supported_pt_extensions = {".ckpt", ".pt", ".pt2", ".bin", ".pth", ".safetensors", ".pkl", ".sft"}

base_path = ""
models_dir = ""
output_directory = ""
temp_directory = ""
input_directory = ""
folder_names_and_paths: dict = {}


def _use_base_path(base) -> None:
    """Stub only: lay ComfyUI's folders out under ``base`` (the real module does this at import)."""
    global base_path, models_dir, output_directory, temp_directory, input_directory
    base_path = str(base)
    models_dir = os.path.join(base_path, "models")
    output_directory = os.path.join(base_path, "output")
    temp_directory = os.path.join(base_path, "temp")
    input_directory = os.path.join(base_path, "input")
    for folder in (models_dir, output_directory, temp_directory, input_directory):
        os.makedirs(folder, exist_ok=True)
    folder_names_and_paths.clear()
    folder_names_and_paths["checkpoints"] = ([os.path.join(models_dir, "checkpoints")], supported_pt_extensions)


def get_output_directory() -> str:
    return output_directory


def get_temp_directory() -> str:
    return temp_directory


def get_input_directory() -> str:
    return input_directory


def add_model_folder_path(folder_name: str, full_folder_path: str, is_default: bool = False) -> None:
    if folder_name in folder_names_and_paths:
        paths, _ = folder_names_and_paths[folder_name]
        if full_folder_path in paths:
            if is_default and paths[0] != full_folder_path:
                paths.remove(full_folder_path)
                paths.insert(0, full_folder_path)
        elif is_default:
            paths.insert(0, full_folder_path)
        else:
            paths.append(full_folder_path)
    else:
        folder_names_and_paths[folder_name] = ([full_folder_path], set())


def get_folder_paths(folder_name: str) -> list[str]:
    return folder_names_and_paths[folder_name][0][:]


def get_filename_list(folder_name: str) -> list[str]:
    paths, extensions = folder_names_and_paths[folder_name]
    found = set()
    for folder in paths:
        for root, _, files in os.walk(folder, followlinks=True):
            for name in files:
                relative = os.path.relpath(os.path.join(root, name), folder)
                if not extensions or os.path.splitext(name)[1].lower() in extensions:
                    found.add(relative)
    return sorted(found)


def get_full_path(folder_name: str, filename: str) -> str | None:
    if folder_name not in folder_names_and_paths:
        return None
    filename = os.path.relpath(os.path.join("/", filename), "/")
    for folder in folder_names_and_paths[folder_name][0]:
        path = os.path.join(folder, filename)
        if os.path.isfile(path):
            return path
    return None


def get_save_image_path(filename_prefix: str, output_dir: str, image_width=0, image_height=0):
    """As ComfyUI: ``(full_output_folder, filename, counter, subfolder, filename_prefix)``; the counter is one
    more than the largest ``<filename>_<digits>_...`` in the folder; saving outside ``output_dir`` raises."""
    if "%" in filename_prefix:
        now = time.localtime()
        for key, value in (("%width%", image_width), ("%height%", image_height), ("%year%", now.tm_year)):
            filename_prefix = filename_prefix.replace(key, str(value))
    subfolder = os.path.dirname(os.path.normpath(filename_prefix))
    filename = os.path.basename(os.path.normpath(filename_prefix))
    full_output_folder = os.path.join(output_dir, subfolder)
    if os.path.commonpath((output_dir, os.path.abspath(full_output_folder))) != output_dir:
        raise Exception("**** ERROR: Saving image outside the output folder is not allowed.")
    os.makedirs(full_output_folder, exist_ok=True)
    counters = [0]
    for name in os.listdir(full_output_folder):
        head, _, rest = name.partition(filename + "_")
        if head == "" and rest:
            digits = rest.split("_")[0]
            counters.append(int(digits) if digits.isdigit() else 0)
    return full_output_folder, filename, max(counters) + 1, subfolder, filename_prefix
