"""SageMaker Model Package Groups (``sagemaker://``) on plain boto3.

The SDK adapter is `.backend`; `.config`, `.metadata` and
`.translate` import without boto3, so a URL is checked before the SDK loads.
"""
