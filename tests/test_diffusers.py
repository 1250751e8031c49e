"""Our maps drive a real diffusers ControlNet pipeline (a tiny one built from configs: no downloads).

The pipeline test needs the ``diffusers`` extra (diffusers + transformers) and is skipped without it; the
detector-call tests always run. See DESIGN.md, "diffusers facts": the pipeline is handed PIL maps whose
sides are multiples of 8, and the fresh ControlNet's zero-initialised output layers are re-initialised so
that the control image changes the result.
"""
import socket

import numpy as np
import pytest
import torch
from PIL import Image

import oracle
from openpose_core import OpenposeDetector, PoseFrame

SIDE = 64
STEPS = 2


@pytest.fixture(scope="module", autouse=True)
def offline():
    """No Hub access at all (everything below is built from configs): offline mode, both the variable and
    the value huggingface_hub read at import, and any network connection fails loudly."""
    from huggingface_hub import constants

    def refuse(*args, **kwargs):
        raise AssertionError("the diffusers test tried to open a network connection")

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setattr(constants, "HF_HUB_OFFLINE", True)
        patch.setattr(socket.socket, "connect", refuse)
        yield


def tiny_tokenizer():
    """A CLIP tokenizer built in memory: special tokens, the letters, and no merges (words become letters)."""
    from transformers import CLIPTokenizer

    letters = [chr(code) for code in range(ord("a"), ord("z") + 1)]
    tokens = ["<|startoftext|>", "<|endoftext|>", *letters, *[letter + "</w>" for letter in letters]]
    return CLIPTokenizer(vocab={token: index for index, token in enumerate(tokens)}, merges=[], model_max_length=77)


def tiny_text_encoder(vocab_size: int):
    from transformers import CLIPTextConfig, CLIPTextModel

    config = CLIPTextConfig(vocab_size=vocab_size, hidden_size=32, intermediate_size=37, num_hidden_layers=2,
                            num_attention_heads=4, max_position_embeddings=77, bos_token_id=0, eos_token_id=1,
                            pad_token_id=1)
    return CLIPTextModel(config)


def reinitialise_zero_convs(controlnet) -> None:
    """A fresh ControlNet adds exactly zero to the UNet; give its output convolutions random weights."""
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for conv in [*controlnet.controlnet_down_blocks, controlnet.controlnet_mid_block,
                     controlnet.controlnet_cond_embedding.conv_out]:
            conv.weight.copy_(torch.randn(conv.weight.shape, generator=generator))
            conv.bias.copy_(torch.randn(conv.bias.shape, generator=generator))


def tiny_pipeline():
    """SD 1.x layout at toy width: a 2-level UNet, its ControlNet, a 4-level VAE (latents at 1/8)."""
    import diffusers

    torch.manual_seed(0)
    unet = diffusers.UNet2DConditionModel(
        sample_size=SIDE // 8, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=(32, 64),
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32, attention_head_dim=8, norm_num_groups=32)
    controlnet = diffusers.ControlNetModel.from_unet(unet)
    reinitialise_zero_convs(controlnet)
    vae = diffusers.AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8, 8, 16, 16), norm_num_groups=8,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4, sample_size=SIDE)
    tokenizer = tiny_tokenizer()
    pipe = diffusers.StableDiffusionControlNetPipeline(
        vae=vae, text_encoder=tiny_text_encoder(len(tokenizer)), tokenizer=tokenizer, unet=unet,
        controlnet=controlnet, scheduler=diffusers.DDIMScheduler(), safety_checker=None, feature_extractor=None,
        requires_safety_checker=False)
    assert pipe.vae_scale_factor == 8
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.fixture(scope="module")
def pipeline():
    return tiny_pipeline()


def generate(pipe, control: Image.Image) -> np.ndarray:
    result = pipe("a person", image=control, num_inference_steps=STEPS, height=SIDE, width=SIDE,
                  generator=torch.Generator().manual_seed(0), output_type="np")
    return result.images[0]


def detector_for(skeletons) -> OpenposeDetector:
    return OpenposeDetector(oracle.OracleBodyNet(skeletons))


def photo(seed: int = 0) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(30, 220, (SIDE, SIDE, 3), dtype=np.uint8))


def test_our_map_flows_into_a_controlnet_pipeline(pipeline):
    standing = detector_for(oracle.grid_of_people(1, 1, 1))(photo(), detect_resolution=SIDE, image_resolution=SIDE)
    pair = detector_for(oracle.grid_of_people(2, 2, 1, seed=3))(photo(), detect_resolution=SIDE, image_resolution=SIDE)
    assert isinstance(standing, Image.Image) and standing.size == (SIDE, SIDE)
    assert np.asarray(standing).any(), "the map has a skeleton on it"
    black = Image.new("RGB", (SIDE, SIDE))
    outputs = {name: generate(pipeline, control) for name, control in
               (("standing", standing), ("again", standing), ("pair", pair), ("black", black))}
    assert outputs["standing"].shape == (SIDE, SIDE, 3)
    assert np.isfinite(outputs["standing"]).all()
    np.testing.assert_array_equal(outputs["standing"], outputs["again"])  # deterministic, so differences mean something
    # Two steps of random networks mostly decode the starting noise: the control image moves pixels by ~0.01
    # here, and by exactly 0 if the ControlNet's zero convolutions are left as initialised.
    assert np.abs(outputs["standing"] - outputs["black"]).max() > 2e-3
    assert np.abs(outputs["standing"] - outputs["pair"]).max() > 2e-3


def test_return_pose_and_list_calls():
    detector = detector_for(oracle.grid_of_people(1, 1, 1))
    images = [photo(0), photo(1).resize((96, 64))]
    single = [detector(image, detect_resolution=SIDE, image_resolution=SIDE) for image in images]
    batch = detector(images, detect_resolution=SIDE, image_resolution=SIDE)
    assert isinstance(batch, list) and len(batch) == 2
    for one, listed in zip(single, batch):
        assert isinstance(listed, Image.Image) and listed.size == one.size
        np.testing.assert_array_equal(np.asarray(listed), np.asarray(one))
    assert batch[1].size == (128, 64), "sides rounded to multiples of 64 as in the reference (96 -> 128)"
    control, pose = detector(images[0], detect_resolution=SIDE, image_resolution=SIDE, return_pose=True)
    assert isinstance(control, Image.Image) and isinstance(pose, PoseFrame)
    assert len(pose.people) == 1 and pose.people[0].present() == 18
    np.testing.assert_array_equal(np.asarray(control), np.asarray(single[0]))


def test_comfyui_controlnet_aux_keywords():
    """Code written for comfyui_controlnet_aux's detector runs unchanged: ``xinsr_stick_scaling`` thickens
    the sticks, ``image_and_json`` returns the map with its normalised pose dict (canvas = the map's size);
    any other keyword is ignored with a warning that names it (a misspelt option does not pass unnoticed)."""
    skeletons = oracle.grid_of_people(1, 1, 1)
    detector = detector_for(skeletons)
    options = dict(detect_resolution=1024, image_resolution=1024)     # sticks scale on maps over 512 px
    thick = detector(photo(), xinsr_stick_scaling=True, **options)
    np.testing.assert_array_equal(np.asarray(thick), np.asarray(detector(photo(), stick_scaling=True, **options)))
    assert (np.asarray(thick) > 0).sum() > 1.3 * (np.asarray(detector(photo(), **options)) > 0).sum()
    control, document = detector(photo(), image_and_json=True, output_type="np", **options)
    assert isinstance(control, np.ndarray) and (document["canvas_width"], document["canvas_height"]) == (1024, 1024)
    body = np.array(document["people"][0]["pose_keypoints_2d"]).reshape(18, 3)
    assert np.abs(body[:, :2] - skeletons[0]).max() < 0.02 and (body[:, 2] == 1.0).all()
    with pytest.warns(UserWarning, match="ignores these keyword arguments: detect_resolutoin"):
        detector(photo(), detect_resolutoin=SIDE)
    with pytest.raises(ValueError, match="pass one"):
        detector(photo(), image_and_json=True, return_pose=True)
