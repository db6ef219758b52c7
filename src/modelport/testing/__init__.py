"""Test rigs: local fakes of the registry services modelport talks to."""
