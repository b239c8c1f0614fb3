"""Builds the sqitch project into the wheel: ``session_manager/sqitch/`` gets the repository's plan, conf and
deploy/revert/verify scripts at build time, so ``session-manager deploy`` works after ``pip install`` from any
directory. Git holds them once, at the top level; an sdist carries the copy it was made with.

An editable install (``pip install -e``) copies nothing: the CLI then finds the checkout above its source.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent
TOP = HERE.parent  # the repository's top level: sqitch.plan, sqitch.conf, deploy/, revert/, verify/
IN_SDIST = HERE / "src" / "session_manager" / "sqitch"  # where an sdist keeps its copy
PROJECT_FILES = ("sqitch.plan", "sqitch.conf")
PROJECT_DIRS = ("deploy", "revert", "verify")


def project_source() -> Path:
    for candidate in (TOP, IN_SDIST):
        plan = candidate / "sqitch.plan"
        if (plan.is_file() and "\n%project=pg-session-manager\n" in plan.read_text(encoding="utf-8")
                and all((candidate / d).is_dir() for d in PROJECT_DIRS)):
            return candidate
    raise SystemExit(f"sqitch project not found in {TOP} (build from the pg-session-manager checkout)")


def copy_project(dest: Path) -> None:
    source = project_source()
    if source.resolve() == dest.resolve():
        return
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for name in PROJECT_FILES:
        shutil.copy2(source / name, dest / name)
    for name in PROJECT_DIRS:
        shutil.copytree(source / name, dest / name, ignore=shutil.ignore_patterns("*~", ".*"))


class BuildPyWithProject(build_py):
    def run(self) -> None:
        super().run()
        if not self.editable_mode:
            copy_project(Path(self.build_lib) / "session_manager" / "sqitch")


class SdistWithProject(sdist):
    def make_release_tree(self, base_dir: str, files: list[str]) -> None:
        super().make_release_tree(base_dir, files)
        copy_project(Path(base_dir) / "src" / "session_manager" / "sqitch")


setup(cmdclass={"build_py": BuildPyWithProject, "sdist": SdistWithProject})
