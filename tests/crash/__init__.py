"""A process killed with SIGKILL in the middle of an operation leaves nothing behind once
the operation runs again."""
