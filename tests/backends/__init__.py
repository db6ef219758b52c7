"""One module per backend (``*_case.py``), each exporting ``CASES``: how to open a registry
on that backend for the conformance suite, and the gaps it declares."""
