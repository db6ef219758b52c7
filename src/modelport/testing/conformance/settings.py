"""Settings every case and test of the suite shares."""

from modelport.retry import RetryPolicy

FAST_RETRY = RetryPolicy(attempts=8, initial_wait=0.01, max_wait=0.2, deadline=30)

PAGE_SIZE = 3  # every case opens its registry with this page size, so paging is exercised
