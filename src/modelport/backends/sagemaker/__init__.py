"""SageMaker Model Package Groups (``sagemaker://``) on plain boto3.

The SDK adapter is :mod:`.backend`; :mod:`.config`, :mod:`.metadata` and
:mod:`.translate` import without boto3, so a URL is checked before the SDK loads.
"""
