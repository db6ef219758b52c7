"""MLflow Model Registry (``mlflow+sqlite://``, ``mlflow+http(s)://``, ``mlflow://``).

The SDK adapter is `.backend`; `.config`, `.tags` and `.errors`
import without MLflow, so a URL is checked before the SDK loads.
"""
