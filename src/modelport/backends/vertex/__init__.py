"""Vertex AI Model Registry (``vertex://``) on the GAPIC clients of ``google.cloud.aiplatform_v1``.

The SDK adapter is `.backend`; `.config`, `.naming` and `.labels`
import without the SDK, so a URL and a draft are checked before it loads.
"""
