"""Stand-in for ``comfy.model_management``: CPU only; ``current_loaded_models`` records what was loaded
through ``load_models_gpu`` so tests can see models enter and leave ComfyUI's management."""
import threading

import torch

current_loaded_models = []
"""Loaded ModelPatchers, most recent first (the real list holds LoadedModel wrappers)."""


def get_torch_device():
    return torch.device("cpu")


def unet_offload_device():
    return torch.device("cpu")


def intermediate_device():
    return torch.device("cpu")


def module_size(module):
    return sum(t.nelement() * t.element_size() for t in module.state_dict().values())


def load_models_gpu(models, memory_required=0, force_patch_weights=False, minimum_memory_required=None,
                    force_full_load=False):
    for model in models:
        model.model.to(model.load_device)
        model.loaded = True
        if model not in current_loaded_models:
            current_loaded_models.insert(0, model)


def load_model_gpu(model):
    return load_models_gpu([model])


def free_memory(memory_required, device, keep_loaded=[]):
    unloaded = [model for model in current_loaded_models if model not in keep_loaded]
    for model in unloaded:
        model.model.to(model.offload_device)
        model.loaded = False
        current_loaded_models.remove(model)
    return unloaded


def unload_all_models():
    free_memory(1e30, get_torch_device())


def soft_empty_cache(force=False):
    pass


class InterruptProcessingException(Exception):
    pass


interrupt_processing_mutex = threading.RLock()
interrupt_processing = False


def interrupt_current_processing(value=True):
    global interrupt_processing
    with interrupt_processing_mutex:
        interrupt_processing = value


def processing_interrupted():
    with interrupt_processing_mutex:
        return interrupt_processing


def throw_exception_if_processing_interrupted():
    global interrupt_processing
    with interrupt_processing_mutex:
        if interrupt_processing:
            interrupt_processing = False
            raise InterruptProcessingException()
