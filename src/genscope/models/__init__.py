"""Shipped models (ONNX weights + NumPy heads) and their inference code; training lives in ``genscope.train``."""
