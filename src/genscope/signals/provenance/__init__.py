"""Provenance read without a model: C2PA, generation metadata, SD watermarks, camera EXIF.

``reader.read_provenance`` reads one file; ``signal.ProvenanceSignal`` runs it in a scan and
``genscope.api.provenance.provenance`` for single files.
"""
