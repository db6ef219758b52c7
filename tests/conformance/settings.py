from modelport import RetryPolicy

FAST_RETRY = RetryPolicy(attempts=8, initial_wait=0.01, max_wait=0.2, deadline=30)
