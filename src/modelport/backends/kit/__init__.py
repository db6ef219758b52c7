"""The toolkit every backend is built from.

What each backend would otherwise write again lives here once: :mod:`.errors` turns an
SDK's exceptions into :mod:`modelport.errors` from a small table of the SDK's error codes,
:mod:`.options` reads a URL's query options into a typed, checked model, and :mod:`.codec`
keeps the neutral record within a registry's metadata limits. A backend supplies only what
is its own: its tables, its SDK-specific extraction, its option fields, its limits.
"""
