"""MLflow Model Registry (``mlflow+sqlite://``, ``mlflow+http(s)://``, ``mlflow://``).

The SDK adapter is :mod:`.backend`; :mod:`.config`, :mod:`.tags` and :mod:`.errors`
import without MLflow, so a URL is checked before the SDK loads.
"""
