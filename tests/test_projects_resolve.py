"""Resolving paths to projects: nearest marker wins, never a guess."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from reverie.daemon.projects.identity import (
    ProjectError,
    derived_id,
    find_root,
    load_config,
    resolve_project,
)
from reverie.protocol import wire
from tests.support import private_home


@pytest.fixture
def tree() -> Iterator[Path]:
    with private_home() as base:
        yield base.resolve()


def test_nearest_repository_wins_for_nested_repos(tree: Path) -> None:
    outer = tree / "outer"
    inner = outer / "vendor" / "inner"
    (outer / ".git").mkdir(parents=True)
    (inner / ".hg").mkdir(parents=True)
    (inner / "src").mkdir()
    assert find_root(inner / "src")[0] == str(inner)
    assert find_root(outer / "vendor")[0] == str(outer)
    assert resolve_project(inner).id != resolve_project(outer).id


def test_symlinked_path_resolves_to_the_real_root(tree: Path) -> None:
    real = tree / "real"
    (real / ".jj").mkdir(parents=True)
    (real / "pkg").mkdir()
    link = tree / "link"
    link.symlink_to(real)
    via_link = resolve_project(link / "pkg")
    assert via_link.root == str(real)
    assert via_link.id == resolve_project(real).id


def test_worktree_git_file_is_a_marker(tree: Path) -> None:
    main = tree / "main"
    main.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(main)]
    subprocess.run([*git, "init", "-q"], check=True)
    (main / "f").write_text("x")
    subprocess.run([*git, "add", "f"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    wt = tree / "wt"
    subprocess.run([*git, "worktree", "add", "-q", str(wt)], check=True)
    assert (wt / ".git").is_file()
    ident = resolve_project(wt)
    assert ident.root == str(wt) and ident.marker == ".git"
    assert ident.id != resolve_project(main).id


def test_file_path_resolves_via_its_directory(tree: Path) -> None:
    (tree / "p" / ".git").mkdir(parents=True)
    (tree / "p" / "a.py").write_text("")
    assert find_root(tree / "p" / "a.py")[0] == str(tree / "p")


def test_home_directory_is_refused(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tree / "home"
    (home / ".git").mkdir(parents=True)  # a dotfiles repository in $HOME
    (home / "notes").mkdir()
    monkeypatch.setenv("HOME", str(home))
    for path in (home, home / "notes"):
        with pytest.raises(ProjectError) as info:
            resolve_project(path)
        assert info.value.code == wire.AMBIGUOUS_PROJECT
        assert "home directory" in info.value.message
        assert ".reverie.toml" in info.value.message
    (home / "notes" / ".reverie.toml").write_text("")
    assert resolve_project(home / "notes").root == str(home / "notes")


def test_filesystem_root_and_markerless_paths_are_refused(tree: Path) -> None:
    (tree / "plain").mkdir()
    for path in ("/", tree / "plain"):
        with pytest.raises(ProjectError) as info:
            find_root(path, home=str(tree / "nohome"))
        assert info.value.code == wire.AMBIGUOUS_PROJECT
        assert "Fix:" in info.value.message and ".reverie.toml" in info.value.message


def test_relative_and_missing_paths_are_errors(tree: Path) -> None:
    with pytest.raises(ProjectError) as info:
        find_root("relative/path")
    assert info.value.code == wire.INVALID_PARAMS
    with pytest.raises(ProjectError) as info:
        find_root(tree / "missing")
    assert info.value.code == wire.NOT_FOUND


def test_reverie_toml_sets_id_name_storage_guard(tree: Path) -> None:
    root = tree / "proj"
    root.mkdir()
    (root / ".reverie.toml").write_text(
        'id = "shared-memory"\nname = "Shared"\nstorage = "in-project"\nguard = "enforce"\n'
    )
    ident = resolve_project(root)
    assert (ident.id, ident.name, ident.marker) == ("shared-memory", "Shared", ".reverie.toml")
    assert ident.config.storage == "in-project" and ident.config.guard == "enforce"
    assert ident.db_path(tree / "central") == root / ".reverie" / "memory.db"


def test_derived_id_is_stable_readable_and_distinct() -> None:
    a = derived_id("/src/My Project")
    assert a == derived_id("/src/My Project")
    assert a.startswith("my-project-")
    assert a != derived_id("/other/My Project")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('colour = "blue"\n', "colour"),
        ('storage = "cloud"\n', "storage"),
        ('guard = "strict"\n', "guard"),
        ("name = 3\n", "name"),
        ('id = "../escape"\n', "id"),
        ('name = ""\n', "name"),
    ],
)
def test_bad_reverie_toml_names_file_and_key(tree: Path, text: str, key: str) -> None:
    path = tree / ".reverie.toml"
    path.write_text(text)
    with pytest.raises(ProjectError) as info:
        load_config(path)
    assert str(path) in info.value.message
    assert f"`{key}`" in info.value.message
    assert info.value.code == wire.INVALID_PARAMS


def test_invalid_toml_names_the_file(tree: Path) -> None:
    path = tree / ".reverie.toml"
    path.write_text("id = \n")
    with pytest.raises(ProjectError) as info:
        load_config(path)
    assert str(path) in info.value.message and "TOML" in info.value.message


def test_dangling_git_symlink_still_marks_a_root(tree: Path) -> None:
    (tree / "p").mkdir()
    os.symlink("/nonexistent-target", tree / "p" / ".git")  # dangling .git link still marks
    assert find_root(tree / "p")[0] == str(tree / "p")
