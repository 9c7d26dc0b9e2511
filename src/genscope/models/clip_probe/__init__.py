"""The CLIP-probe detector's feature side: the ONNX image tower and CLIP's views (``encoder``)."""
