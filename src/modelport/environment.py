"""What ``Lineage.from_env()`` reads: the code version and CI job a training script runs
in, as plain facts (this module knows git and CI variables, not the data model)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

from modelport.urls import redact


@dataclass(frozen=True)
class _Provider:
    """Which variables a CI provider sets for its name, commit, repo, branch, run and URL."""

    name: str
    detect: str
    commit: str
    repo: str
    branch: str
    run_id: str
    url: str


PROVIDERS = (
    _Provider(
        "github-actions",
        "GITHUB_ACTIONS",
        "GITHUB_SHA",
        "GITHUB_REPOSITORY",
        "GITHUB_REF_NAME",
        "GITHUB_RUN_ID",
        "",
    ),
    _Provider(
        "gitlab-ci",
        "GITLAB_CI",
        "CI_COMMIT_SHA",
        "CI_PROJECT_URL",
        "CI_COMMIT_REF_NAME",
        "CI_JOB_ID",
        "CI_JOB_URL",
    ),
    _Provider(
        "circleci",
        "CIRCLECI",
        "CIRCLE_SHA1",
        "CIRCLE_REPOSITORY_URL",
        "CIRCLE_BRANCH",
        "CIRCLE_BUILD_NUM",
        "CIRCLE_BUILD_URL",
    ),
    _Provider(
        "buildkite",
        "BUILDKITE",
        "BUILDKITE_COMMIT",
        "BUILDKITE_REPO",
        "BUILDKITE_BRANCH",
        "BUILDKITE_BUILD_ID",
        "BUILDKITE_BUILD_URL",
    ),
    _Provider(
        "azure-pipelines",
        "TF_BUILD",
        "BUILD_SOURCEVERSION",
        "BUILD_REPOSITORY_URI",
        "BUILD_SOURCEBRANCHNAME",
        "BUILD_BUILDID",
        "",
    ),
    _Provider(
        "jenkins", "JENKINS_URL", "GIT_COMMIT", "GIT_URL", "GIT_BRANCH", "BUILD_ID", "BUILD_URL"
    ),
    _Provider(
        "bitbucket",
        "BITBUCKET_BUILD_NUMBER",
        "BITBUCKET_COMMIT",
        "BITBUCKET_GIT_HTTP_ORIGIN",
        "BITBUCKET_BRANCH",
        "BITBUCKET_BUILD_NUMBER",
        "",
    ),
)


@dataclass(frozen=True)
class CodeFacts:
    repo: str | None
    commit: str | None
    branch: str | None


@dataclass(frozen=True)
class CIFacts:
    provider: str
    run_id: str | None
    url: str | None


def detect(path: str, env: Mapping[str, str] | None = None) -> tuple[CodeFacts, CIFacts | None]:
    """The checkout at ``path`` and the CI job of ``env`` (default: the process's)."""
    env = os.environ if env is None else env
    provider = next((p for p in PROVIDERS if env.get(p.detect)), None)
    ci = _ci_run(provider, env) if provider else None
    code = CodeFacts(
        repo=_clean_repo(
            _ci_value(provider, "repo", env) or _git(path, "config", "--get", "remote.origin.url")
        ),
        commit=_ci_value(provider, "commit", env) or _git(path, "rev-parse", "HEAD"),
        branch=_ci_value(provider, "branch", env)
        or _git(path, "rev-parse", "--abbrev-ref", "HEAD"),
    )
    return code, ci


def _ci_value(provider: _Provider | None, attribute: str, env: Mapping[str, str]) -> str | None:
    if provider is None:
        return None
    variable = getattr(provider, attribute)
    return env.get(variable) or None if variable else None


def _ci_run(provider: _Provider, env: Mapping[str, str]) -> CIFacts:
    url = _ci_value(provider, "url", env)
    if provider.name == "github-actions" and env.get("GITHUB_RUN_ID"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        url = f"{server}/{env.get('GITHUB_REPOSITORY', '')}/actions/runs/{env['GITHUB_RUN_ID']}"
    return CIFacts(provider=provider.name, run_id=_ci_value(provider, "run_id", env), url=url)


def _clean_repo(repo: str | None) -> str | None:
    """A remote URL with any embedded credentials removed."""
    if repo is None:
        return None
    if "://" in repo and "@" in repo.split("://", 1)[1].split("/", 1)[0]:
        scheme, rest = repo.split("://", 1)
        return f"{scheme}://{rest.split('@', 1)[1]}"
    return redact(repo)


def _git(path: str, *args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", "-C", path, *args], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    value = result.stdout.strip()
    return value if result.returncode == 0 and value and value != "HEAD" else None
