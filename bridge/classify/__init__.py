"""Expression and action recognition (ONNX, onnxruntime) and the trigger logic that turns class
probabilities into avatar events. Runtime needs only numpy, onnxruntime and OpenCV."""
from .onnx_runner import OnnxModel
from .triggers import TriggerLogic, TriggerRule

__all__ = ["OnnxModel", "TriggerLogic", "TriggerRule"]
