#!/usr/bin/env python3
"""The test image without a registry: docker/Dockerfile's image made from Debian's packages alone.

    python3 scripts/rootfs_image.py          # prints the image's tag, building it first when absent
    python3 scripts/rootfs_image.py --inputs # prints what the tag is a hash of

A root filesystem by mmdebstrap (--variant=apt, postgresql-15, postgresql-15-cron, postgresql-15-pgtap)
from this machine's configured Debian mirror, the entrypoint and settings of docker/ copied in, and
`docker import` into the engine that DOCKER_HOST names (or the default one). The tag is a hash of the
inputs (this file, docker/entrypoint.sh, docker/postgresql.conf, the mirror lines, the architecture), so
the image is built once per engine and reused until an input changes. Standard library only: it runs
outside the virtual environment.
"""
from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKER = ROOT / "docker"
REPOSITORY = "pg-session-manager-test"
SUITE = "bookworm"
PACKAGES = ["postgresql-15", "postgresql-15-cron", "postgresql-15-pgtap"]
# The official postgres image's environment, so both builds run the entrypoint alike (docker import
# takes no STOPSIGNAL: docker stop sends SIGTERM, a smart shutdown; testcontainers kills and removes anyway).
IMAGE_CHANGES = [
    "ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV PGDATA=/var/lib/postgresql/data",
    "ENV LANG=C.UTF-8",
    'ENTRYPOINT ["/usr/local/bin/session-manager-entrypoint"]',
]


def debian_sources(paths: list[str] | None = None) -> list[str]:
    """The machine's Debian entries for SUITE and its updates/security suites, as one-line sources.

    Reads /etc/apt/sources.list, sources.list.d/*.list and the deb822 sources.list.d/*.sources. Other
    repositories (a vendor's, a suite like cloud-sdk-bookworm) are left out: the image is Debian's."""
    wanted = {SUITE, f"{SUITE}-updates", f"{SUITE}-security"}
    if paths is None:
        paths = ["/etc/apt/sources.list", *sorted(glob.glob("/etc/apt/sources.list.d/*.list")),
                 *sorted(glob.glob("/etc/apt/sources.list.d/*.sources"))]
    lines: list[str] = []
    for path in paths:
        try:
            text = Path(path).read_text()
        except OSError:
            continue
        if path.endswith(".sources"):
            for stanza in re.split(r"\n\s*\n", text):
                fields: dict[str, str] = {}
                for line in stanza.splitlines():
                    if line.startswith("#") or ":" not in line or line[0].isspace():
                        continue
                    key, _, value = line.partition(":")
                    fields[key.strip().lower()] = value.strip()
                if fields.get("enabled", "yes").lower() == "no" or "deb" not in fields.get("types", "").split():
                    continue
                for uri in fields.get("uris", "").split():
                    for suite in fields.get("suites", "").split():
                        if suite in wanted:
                            lines.append(f"deb {uri} {suite} {fields.get('components', 'main')}")
        else:
            for line in text.splitlines():
                words = line.split("#", 1)[0].split()
                if len(words) >= 4 and words[0] == "deb":
                    if words[1].startswith("["):  # options: deb [signed-by=...] URI SUITE COMPONENTS
                        while words and not words[1].endswith("]"):
                            words.pop(1)
                        words.pop(1)
                    if len(words) >= 4 and words[2] in wanted:
                        lines.append(" ".join(words))
    return lines


def inputs(docker_dir: Path = DOCKER) -> str:
    sources = debian_sources()
    if not sources:
        raise SystemExit(f"rootfs_image: no Debian {SUITE} entry in /etc/apt/sources.list*: "
                         "nothing to build the image from")
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()
    parts = [f"architecture {arch}", f"packages {' '.join(PACKAGES)}", *(f"source {s}" for s in sources)]
    for label, path in (("scripts/rootfs_image.py", Path(__file__).resolve()),
                        ("docker/entrypoint.sh", docker_dir / "entrypoint.sh"),
                        ("docker/postgresql.conf", docker_dir / "postgresql.conf")):
        parts.append(f"file {label} {hashlib.sha256(path.read_bytes()).hexdigest()}")
    return "\n".join(parts) + "\n"


def tag(docker_dir: Path = DOCKER) -> str:
    return f"{REPOSITORY}:rootfs-{hashlib.sha256(inputs(docker_dir).encode()).hexdigest()[:16]}"


def image_exists(name: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", name], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, check=False).returncode == 0


def build(name: str) -> float:
    """mmdebstrap's tar straight into `docker import`; the seconds it took."""
    started = time.monotonic()
    hooks = [
        # postgresql-common's postinst would make and start a cluster "main": the entrypoint makes ours.
        "--setup-hook=mkdir -p \"$1/etc/postgresql-common/createcluster.d\"",
        "--setup-hook=echo 'create_main_cluster = false' > "
        "\"$1/etc/postgresql-common/createcluster.d/no-main-cluster.conf\"",
        "--customize-hook=mkdir -p \"$1/etc/session-manager\"",
        f"--customize-hook=upload {DOCKER / 'postgresql.conf'} /etc/session-manager/postgresql.conf",
        f"--customize-hook=upload {DOCKER / 'entrypoint.sh'} /usr/local/bin/session-manager-entrypoint",
        "--customize-hook=chmod 755 \"$1/usr/local/bin/session-manager-entrypoint\"",
        # Documentation and translations: no use in a test container (about a third of the size).
        "--dpkgopt=path-exclude=/usr/share/doc/*",
        "--dpkgopt=path-include=/usr/share/doc/*/copyright",
        "--dpkgopt=path-exclude=/usr/share/man/*",
        "--dpkgopt=path-exclude=/usr/share/locale/*",
    ]
    mm = ["mmdebstrap", "--quiet", "--variant=apt", "--include=" + ",".join(PACKAGES),
          "--aptopt=APT::Install-Recommends \"false\"", *hooks, SUITE, "-", *debian_sources()]
    imp = ["docker", "import", *(a for c in IMAGE_CHANGES for a in ("--change", c)),
           "--message", "pg-session-manager test image, from Debian's packages (scripts/rootfs_image.py)",
           "-", name]
    print("rootfs_image: building " + name + ": " + shlex.join(mm) + " | " + shlex.join(imp), file=sys.stderr)
    # Its own process group: mmdebstrap unmounts and removes its chroot when the whole group gets
    # SIGTERM (its parent alone goes on building).
    producer = subprocess.Popen(mm, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, start_new_session=True)
    consumer = subprocess.Popen(imp, stdin=producer.stdout, stdout=subprocess.DEVNULL)
    assert producer.stdout is not None
    producer.stdout.close()
    try:
        consumer.wait()
        producer.wait()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(producer.pid, signal.SIGTERM)
        consumer.terminate()
        try:
            producer.wait(timeout=120)
        except subprocess.TimeoutExpired:
            print("rootfs_image: mmdebstrap did not stop within 120 s: see /tmp/mmdebstrap.*", file=sys.stderr)
        consumer.wait()
        subprocess.run(["docker", "image", "rm", "-f", name], capture_output=True, check=False)
        raise
    if producer.returncode != 0 or consumer.returncode != 0:
        subprocess.run(["docker", "image", "rm", "-f", name], capture_output=True, check=False)
        raise SystemExit(f"rootfs_image: the build failed (mmdebstrap {producer.returncode}, "
                         f"docker import {consumer.returncode})")
    return time.monotonic() - started


def remove_older(name: str) -> None:
    """Drops this repository's other rootfs-* tags: images of inputs that changed (370 MB each)."""
    listed = subprocess.run(["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}", REPOSITORY],
                            capture_output=True, text=True, check=False).stdout.split()
    older = [t for t in listed if t.startswith(f"{REPOSITORY}:rootfs-") and t != name]
    if older:
        subprocess.run(["docker", "image", "rm", *older], capture_output=True, check=False)
        print("rootfs_image: removed " + ", ".join(older), file=sys.stderr)


def main(argv: list[str]) -> int:
    if argv[1:] == ["--inputs"]:
        sys.stdout.write(inputs())
        return 0
    if argv[1:]:
        print(__doc__, file=sys.stderr)
        return 2
    name = tag()
    started = time.monotonic()
    if image_exists(name):
        print(f"rootfs_image: reusing {name} (looked up in {time.monotonic() - started:.2f} s)", file=sys.stderr)
    else:
        seconds = build(name)
        size = subprocess.run(["docker", "image", "inspect", "-f", "{{.Size}}", name], capture_output=True,
                              text=True, check=True).stdout.strip()
        print(f"rootfs_image: built {name} in {seconds:.1f} s, {int(size) / 1e6:.0f} MB", file=sys.stderr)
        remove_older(name)
    print(name)
    return 0


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


if __name__ == "__main__":
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupted)
    try:
        sys.exit(main(sys.argv))
    except KeyboardInterrupt as stop:
        print(f"rootfs_image: interrupted ({stop}): the build was stopped and its chroot removed", file=sys.stderr)
        sys.exit(130)
