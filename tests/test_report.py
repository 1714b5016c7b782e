"""`mcsim report`: one self-contained HTML page with every figure, the numbers of the
table, no external reference, rendered by a real browser; bad input is one line."""
import re
import shutil
import subprocess

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from clitools import cli, write_points

import mcsim
from mcsim.plot import format_value

TRIALS = 3000
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    """Two policies x throttle_depth 0, 7 x writer_ratio 0, 0.1: two swept axes besides
    policy, and a corner (writer_ratio 0) where every hp_wait is 0."""
    out = tmp_path_factory.mktemp("report") / "grid"
    return write_points(out, [{"policy": p, "throttle_depth": d, "writer_ratio": w}
                              for p in ("hold", "rfc-v2") for d in (0, 7) for w in (0, 0.1)],
                        TRIALS, 5)


@pytest.fixture(scope="module")
def page(sweep_dir):
    from mcsim.report import write_report

    written = write_report(sweep_dir)
    assert written == sweep_dir.with_name("grid.html")
    return written.read_text()


def test_every_figure_is_present(sweep_dir, page):
    from mcsim.report import chosen_points

    points = chosen_points(mcsim.load(sweep_dir).to_pylist())
    assert len(points) >= 2 and page.count("hp_wait: CCDF") == len(points)
    # quantiles against throttle_depth and against writer_ratio, a CCDF per chosen
    # point, blame, LP cost
    assert page.count("<svg") == 2 + len(points) + 1 + 1
    for heading in ("What was swept", "against each swept axis", "CCDF of hp_wait",
                    "Inversions and where the waiting went", "costs the low-priority side",
                    "The numbers", "Provenance"):
        assert heading in page


def test_no_external_reference_and_no_script(page):
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//|file:)""", page, re.I)
    assert "<script" not in page.lower() and "<link" not in page.lower()
    assert not re.search(r"url\(\s*['\"]?(https?:|//)", page, re.I)
    assert "@import" not in page


def test_numbers_and_axes_come_from_the_table(sweep_dir, page):
    rows = mcsim.load(sweep_dir).to_pylist()
    assert f"<b>{len(rows)} points</b>" in page
    assert "axis <b>throttle_depth</b>: 0, 7" in page and "seed: 5" in page
    for r in rows:
        assert format_value("x_ns", r["hp_wait_p99_ns"]) in page
        if r["hp_wait_p999_ns"] > 0:
            assert f"<td>{format_value('x_ns', r['hp_wait_p999_ns'])}</td>" in page
    assert f"mcsim {mcsim.__version__}" in page and "mcsim sweep (test)" in page


def test_the_page_needs_only_its_columns_and_one_process_draws_the_same(sweep_dir,
                                                                         monkeypatch):
    from mcsim.plot import rows_of
    from mcsim.report import report_columns, report_html

    full = mcsim.load(sweep_dir)
    some = mcsim.load(sweep_dir, columns=report_columns())
    assert some.num_columns < full.num_columns / 3
    page = report_html(rows_of(some), source="s")       # two processes draw (fork)
    assert page == report_html(rows_of(full), source="s")
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert page == report_html(rows_of(some), source="s")


def test_a_single_point_and_a_run_without_hp_reads(capsys, tmp_path):
    out = tmp_path / "one.parquet"
    code, _, err = cli(capsys, "run", "--set", "hp_rate=0.001", "--trials", "500",
                       "--out", out, "-q")
    assert code == 0, err
    code, stdout, err = cli(capsys, "report", out, "-o", tmp_path / "one.html")
    assert code == 0, err
    page = (tmp_path / "one.html").read_text()
    assert "one configuration: no swept axis" in page and "no samples" in page
    assert "no HP reads" in page


@pytest.mark.parametrize("make,exit_code,words", [
    ("empty", 4, "no result files"),
    ("foreign", 4, "not an mcsim result file"),
    ("text", 4, "no result files"),
    ("missing", 4, "No such file or directory"),
])
def test_bad_input_is_one_line_and_writes_nothing(capsys, tmp_path, make, exit_code, words):
    d = tmp_path / "in"
    if make != "missing":
        d.mkdir()
    if make == "foreign":
        pq.write_table(pa.table({"x": [1, 2]}), d / "other.parquet")
    if make == "text":
        (d / "notes.txt").write_text("hello")
    code, out, err = cli(capsys, "report", d)
    assert code == exit_code and err.count("\n") == 1 and words in err, err
    assert not (tmp_path / "in.html").exists()


def test_report_refuses_a_name_that_is_not_html(capsys, sweep_dir, tmp_path):
    code, _, err = cli(capsys, "report", sweep_dir, "-o", tmp_path / "r.pdf")
    assert code == 2 and "is not an .html file name" in err and err.count("\n") == 1
    assert not (tmp_path / "r.pdf").exists()


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it; "
                    "apt-get install chromium)")
def test_headless_chromium_renders_every_figure(page, tmp_path):
    from matplotlib.image import imread

    html = tmp_path / "page.html"
    html.write_text(page)
    shot = tmp_path / "shot.png"
    proc = subprocess.run([CHROMIUM, "--headless", "--disable-gpu", "--no-sandbox",
                           "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
                           f"--screenshot={shot}", "--window-size=1200,9000",
                           html.as_uri()], capture_output=True, text=True, timeout=120)
    assert shot.exists(), proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line]
    assert console == []
    image = imread(shot)[..., :3]
    ink = (image < 0.9).any(axis=2)                # pixels that are not (near) white
    assert ink.mean() > 0.02
    # the figures are drawn: many rows carry ink in the page's upper 3/4, where they are
    band_rows = ink[: int(ink.shape[0] * 0.75)].any(axis=1)
    assert band_rows.mean() > 0.4
    colors = {tuple(c) for c in (image[ink][::50] * 8).astype(int)}
    assert len(colors) > 10                         # lines in several colours, not text only


@pytest.mark.parametrize("command", ["report", "compare", "plot"])
def test_picture_commands_have_help_with_examples(capsys, command):
    code, out, _ = cli(capsys, command, "--help")
    assert code == 0 and "Examples:" in out and f"mcsim {command}" in out
    code, out, _ = cli(capsys, "--help")
    assert f" {command} " in out
