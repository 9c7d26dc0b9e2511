"""Copy-search indexes saved next to the records: ``DescriptorIndex`` (FAISS over global descriptors) and
``KeypointIndex`` (FAISS binary index of ORB codes that votes for references), sharing ``persist``."""

from genscope.index.descriptor import AUTO_APPROX, DescriptorIndex, Kind, factory_string, limit_search_threads
from genscope.index.keypoints import KeypointIndex

__all__ = ["AUTO_APPROX", "DescriptorIndex", "KeypointIndex", "Kind", "factory_string", "limit_search_threads"]
