"""``mcsim bench`` wiring (the measurements themselves are tested in test_bench.py)."""
from clitools import cli


def test_bench_rejects_unknown_implementation(capsys):
    code, out, err = cli(capsys, "bench", "--impl", "gpu")
    assert code == 2
    assert err.count("\n") == 1 and "gpu" in err and "compiled" in err


def test_bench_help_lists_modes(capsys):
    code, out, err = cli(capsys, "bench", "--help")
    assert code == 0 and "--full" in out and "--out" in out
