"""The compiled extensions carry the identity of their build, and stale ones are refused."""

import types

import pytest

from mcsim import _build
from mcsim._build import check_extension, kernel_sources, load_extension, source_hash

hist_ext = load_extension("_hist_ext")
#: Every extension setup.py builds (one per kernels_pyx/*.pyx).
EXTENSIONS = sorted(f"_{p.stem}" for p in _build.CHECKOUT_KERNELS_DIR.glob("*.pyx"))


def test_every_core_build_is_there():
    assert {"_engine", "_engine_plain", "_hist_ext"} <= set(EXTENSIONS)


@pytest.mark.parametrize("name", EXTENSIONS)
def test_extension_was_built_from_the_current_sources(name):
    assert load_extension(name).SOURCE_HASH == source_hash()


@pytest.mark.parametrize("name", EXTENSIONS)
def test_extension_build_flags_are_portable_and_exact(name):
    flags = load_extension(name).BUILD_FLAGS.split()
    assert "-ffp-contract=off" in flags
    assert "-march=native" not in flags and "-ffast-math" not in flags


@pytest.fixture
def kernels(tmp_path):
    (tmp_path / "a.pyx").write_text("x = 1\n")
    (tmp_path / "a.pxd").write_text("cdef int y\n")
    return tmp_path


def fake_extension(built_from):
    return types.SimpleNamespace(__name__="mcsim._fake", SOURCE_HASH=built_from)


def test_hash_covers_every_kernel_file_and_only_those(kernels):
    before = source_hash(kernels)
    (kernels / "a.c").write_text("generated")       # Cython output: not a source
    (kernels / "a.html").write_text("annotation")
    assert source_hash(kernels) == before
    for name in ("b.pxi", "b.h", "b.pyx", "b.pxd"):
        (kernels / name).write_text("")
        assert source_hash(kernels) != before, name
        before = source_hash(kernels)
    assert [p.name for p in kernel_sources(kernels)] == ["a.pxd", "a.pyx", "b.h", "b.pxd", "b.pxi", "b.pyx"]


def test_hash_sees_renames_and_moved_bytes(kernels):
    before = source_hash(kernels)
    (kernels / "a.pyx").rename(kernels / "c.pyx")
    assert source_hash(kernels) != before
    (kernels / "c.pyx").write_text("x = ")
    (kernels / "a.pxd").write_text("1\ncdef int y\n")
    assert source_hash(kernels) != before


def test_stale_extension_is_refused_and_fresh_one_accepted(kernels):
    fresh = fake_extension(source_hash(kernels))
    check_extension(fresh, kernels)
    (kernels / "a.pyx").write_text("x = 2\n")
    with pytest.raises(ImportError, match=r"mcsim\._fake is stale: kernels_pyx/ changed.*rebuild with"):
        check_extension(fresh, kernels)
    with pytest.raises(ImportError, match="stale"):
        check_extension(types.SimpleNamespace(__name__="mcsim._old"), kernels)  # no SOURCE_HASH


def test_installed_wheel_without_sources_is_not_checked(tmp_path):
    check_extension(fake_extension("anything"), tmp_path / "no_kernels_here")
    check_extension(fake_extension("anything"), None)


def test_checkout_kernels_dir_is_beside_the_package():
    assert _build.CHECKOUT_KERNELS_DIR.name == "kernels_pyx"
    assert (_build.CHECKOUT_KERNELS_DIR / "hist.pxd").is_file()


def test_missing_extension_names_the_fix():
    with pytest.raises(ImportError, match="is not built; rebuild with"):
        load_extension("_no_such_extension")
