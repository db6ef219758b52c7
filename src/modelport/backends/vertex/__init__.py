"""Vertex AI Model Registry (``vertex://``) on the GAPIC clients of ``google.cloud.aiplatform_v1``.

The SDK adapter is :mod:`.backend`; :mod:`.config`, :mod:`.naming` and :mod:`.labels`
import without the SDK, so a URL and a draft are checked before it loads.
"""
