"""Training and evaluation of the detector (torch only in ``backbone``; the ``train`` extra)."""
