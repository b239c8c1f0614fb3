"""The test image's inputs, without Docker: its settings are the embedded cluster's, and the Debian
sources its root filesystem is built from are read from apt's configuration as apt reads them."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import rootfs_image  # noqa: E402

import pgcluster  # noqa: E402


def test_image_settings_are_the_embedded_clusters() -> None:
    committed = (ROOT / "docker" / "postgresql.conf").read_text()
    assert committed == pgcluster.settings_conf(), (
        "docker/postgresql.conf differs from scripts/pgcluster.py SETTINGS: "
        "run python3 scripts/pgcluster.py conf > docker/postgresql.conf")


def test_both_builds_use_the_same_entrypoint_and_settings() -> None:
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    assert "COPY postgresql.conf /etc/session-manager/postgresql.conf" in dockerfile
    assert "COPY entrypoint.sh /usr/local/bin/session-manager-entrypoint" in dockerfile
    assert 'ENTRYPOINT ["/usr/local/bin/session-manager-entrypoint"]' in dockerfile
    assert 'ENTRYPOINT ["/usr/local/bin/session-manager-entrypoint"]' in rootfs_image.IMAGE_CHANGES
    assert "/etc/session-manager/postgresql.conf" in (ROOT / "docker" / "entrypoint.sh").read_text()


def test_debian_sources_keep_debians_suites_and_leave_other_repositories_out(tmp_path: Path) -> None:
    deb822 = tmp_path / "debian.sources"
    deb822.write_text("""Types: deb
# a comment
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
Enabled: no

Types: deb
URIs: https://vendor.example/apt
Suites: nodistro
Components: main
""")
    one_line = tmp_path / "extra.list"
    one_line.write_text("""# deb http://old.example/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] http://security.debian.org/debian-security bookworm-security main
deb https://packages.example/apt cloud-sdk-bookworm main
""")
    assert rootfs_image.debian_sources([str(deb822), str(one_line), str(tmp_path / "absent.list")]) == [
        "deb http://deb.debian.org/debian bookworm main contrib",
        "deb http://deb.debian.org/debian bookworm-updates main contrib",
        "deb http://security.debian.org/debian-security bookworm-security main",
    ]


def test_the_image_tag_is_a_hash_of_its_inputs(tmp_path: Path) -> None:
    for name in ("entrypoint.sh", "postgresql.conf"):
        (tmp_path / name).write_bytes((ROOT / "docker" / name).read_bytes())
    assert rootfs_image.tag(tmp_path) == rootfs_image.tag()
    (tmp_path / "entrypoint.sh").write_text((tmp_path / "entrypoint.sh").read_text() + "# changed\n")
    assert rootfs_image.tag(tmp_path) != rootfs_image.tag()
    assert rootfs_image.tag().startswith(rootfs_image.REPOSITORY + ":rootfs-")
