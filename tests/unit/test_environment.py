"""``Lineage.from_env()``: the code version and CI job a training runs in, without secrets."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import modelport as mp
from modelport.environment import PROVIDERS

SHA = "0123456789abcdef0123456789abcdef01234567"
TOKEN = "ghp_T0k3nValue"


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env=env
    )
    return done.stdout.strip()


@pytest.fixture(autouse=True)
def _outside_any_ci_and_repo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for provider in PROVIDERS:
        monkeypatch.delenv(provider.detect, raising=False)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    git(root, "symbolic-ref", "HEAD", "refs/heads/feature-x")  # `init -b` needs git >= 2.28
    git(root, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q",
        "--allow-empty", "-m", "first")  # fmt: skip
    git(root, "remote", "add", "origin", f"https://alice:{TOKEN}@git.example.com/acme/fraud.git")
    return root


@pytest.fixture
def not_a_repo(tmp_path: Path) -> Path:
    path = tmp_path / "plain"
    path.mkdir()
    return path


def test_github_actions(not_a_repo: Path) -> None:
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_SHA": SHA,
        "GITHUB_REPOSITORY": "acme/fraud",
        "GITHUB_REF_NAME": "main",
        "GITHUB_RUN_ID": "987",
        "GITHUB_SERVER_URL": "https://github.example.com",
    }
    lineage = mp.Lineage.from_env(env=env, path=str(not_a_repo), run="run-1")
    assert lineage.run == "run-1"
    assert lineage.code == mp.CodeRef(repo="acme/fraud", commit=SHA, branch="main")
    assert lineage.ci == mp.CIRun(
        provider="github-actions",
        run_id="987",
        url="https://github.example.com/acme/fraud/actions/runs/987",
    )


def test_gitlab_ci_strips_credentials_from_the_project_url(not_a_repo: Path) -> None:
    env = {
        "GITLAB_CI": "true",
        "CI_COMMIT_SHA": SHA,
        "CI_PROJECT_URL": f"https://gitlab-ci-token:{TOKEN}@gitlab.example.com/acme/fraud",
        "CI_COMMIT_REF_NAME": "release/1.2",
        "CI_JOB_ID": "55",
        "CI_JOB_URL": "https://gitlab.example.com/acme/fraud/-/jobs/55",
    }
    lineage = mp.Lineage.from_env(env=env, path=str(not_a_repo))
    assert lineage.code == mp.CodeRef(
        repo="https://gitlab.example.com/acme/fraud", commit=SHA, branch="release/1.2"
    )
    assert lineage.ci == mp.CIRun(
        provider="gitlab-ci", run_id="55", url="https://gitlab.example.com/acme/fraud/-/jobs/55"
    )
    assert TOKEN not in lineage.model_dump_json()


def test_jenkins(not_a_repo: Path) -> None:
    env = {
        "JENKINS_URL": "https://jenkins.example.com/",
        "GIT_COMMIT": SHA,
        "GIT_URL": f"https://{TOKEN}@git.example.com/acme/fraud.git",
        "GIT_BRANCH": "origin/main",
        "BUILD_ID": "12",
        "BUILD_URL": "https://jenkins.example.com/job/fraud/12/",
    }
    lineage = mp.Lineage.from_env(env=env, path=str(not_a_repo))
    assert lineage.code is not None
    assert lineage.ci is not None
    assert lineage.code.repo == "https://git.example.com/acme/fraud.git"
    assert (lineage.code.commit, lineage.code.branch) == (SHA, "origin/main")
    assert (lineage.ci.provider, lineage.ci.run_id) == ("jenkins", "12")
    assert lineage.ci.url == "https://jenkins.example.com/job/fraud/12/"


def test_no_ci_reads_git_and_strips_credentials_from_the_remote(repo: Path) -> None:
    lineage = mp.Lineage.from_env(env={}, path=str(repo))
    assert lineage.ci is None
    assert lineage.code == mp.CodeRef(
        repo="https://git.example.com/acme/fraud.git",
        commit=git(repo, "rev-parse", "HEAD"),
        branch="feature-x",
    )
    assert TOKEN not in lineage.model_dump_json()


def test_ci_variables_take_precedence_over_the_checkout(repo: Path) -> None:
    env = {"GITHUB_ACTIONS": "true", "GITHUB_SHA": SHA}
    lineage = mp.Lineage.from_env(env=env, path=str(repo))
    assert lineage.code is not None
    assert lineage.code.commit == SHA
    assert lineage.code.branch == "feature-x"  # not set by the CI: read from git
    assert lineage.code.repo == "https://git.example.com/acme/fraud.git"


def test_a_detached_head_has_no_branch(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    lineage = mp.Lineage.from_env(env={}, path=str(repo))
    assert lineage.code is not None
    assert lineage.code.branch is None


def test_an_scp_like_remote_is_kept(repo: Path) -> None:
    git(repo, "remote", "set-url", "origin", "git@github.com:acme/fraud.git")
    lineage = mp.Lineage.from_env(env={}, path=str(repo))
    assert lineage.code is not None
    assert lineage.code.repo == "git@github.com:acme/fraud.git"


def test_outside_ci_and_git_there_is_nothing_to_capture(not_a_repo: Path) -> None:
    lineage = mp.Lineage.from_env(env={}, path=str(not_a_repo))
    assert lineage.code is None
    assert lineage.ci is None
    assert lineage.is_empty()


def test_lineage_from_env_reads_the_process_environment(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITLAB_CI", "true")
    monkeypatch.setenv("CI_JOB_ID", "77")
    lineage = mp.Lineage.from_env(path=str(repo), run="r")
    assert lineage.ci is not None
    assert lineage.ci.run_id == "77"
    assert lineage.run == "r"
