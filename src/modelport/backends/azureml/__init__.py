"""``azureml://``: Azure ML model registries (workspaces) through azure-ai-ml's ``MLClient``."""
