"""The toolkit every backend is built from.

What each backend would otherwise write again lives here once:

- `.errors` turns an SDK's exceptions into `modelport.errors` from a small table
  of the SDK's error codes;
- `.options` reads a URL's query options into a typed, checked model;
- `.codec` keeps the neutral record within a registry's metadata limits;
- `.records` builds a `ModelVersion` from a decoded record
  and the service's native fields, and reads versions modelport did not create;
- `.event_keys` and `.event_store` keep the audit trail in an object store (S3,
  GCS, Blob) under one key layout; a backend supplies four object primitives;
- `.sent` turns an SDK's upload progress (a running total, a file's reads) into the
  ``on_bytes`` deltas ``create_version`` reports.

A backend supplies only what is its own: its tables, its SDK-specific extraction, its
option fields, its limits, its object primitives.
"""
