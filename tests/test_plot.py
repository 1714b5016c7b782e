"""mcsim.plot and `mcsim plot`: the plotted values are the table's (read back from the
Line2D, bar and band data, never from pixels), and bad input gives a note or one line."""
import subprocess
import sys

import numpy as np
import pytest
from clitools import REPO, SWEEPS, cli, write_points

import mcsim
import mcsim.plot as plot
from mcsim.dataset import row_histogram
from mcsim.policies import BLAME_NAMES

TRIALS = 3000


@pytest.fixture(scope="module")
def rows():
    """hold and rfc-v2 at throttle_depth 0 and 7, writer_ratio 0.1."""
    return [mcsim.simulate(policy=p, throttle_depth=d, writer_ratio=0.1, trials=TRIALS,
                           seed=3).row()
            for p in ("hold", "rfc-v2") for d in (0, 7)]


def _line(ax, label):
    return next(line for line in ax.get_lines() if line.get_label() == label)


def test_ccdf_lines_are_the_survival_function_of_the_stored_histogram(rows):
    row = rows[1]                                   # hold, throttle_depth 7
    fig = plot.ccdf([row])
    ax = fig.axes[0]
    (line,) = ax.get_lines()
    idx = np.array(row["hp_wait_hist_idx"])
    counts = np.array(row["hp_wait_hist_counts"])
    n = row["hp_wait_n"]
    # P(X >= t) at each non-empty bucket above 0: what the bucket and all above hold.
    positive = idx > 0
    expected = [counts[positive][k:].sum() / n for k in range(positive.sum())]
    assert np.allclose(line.get_ydata(), expected, rtol=0, atol=1e-15)
    assert line.get_xdata()[0] == row["hp_wait_hist_vmin"] or idx[0] == 0
    assert line.get_ydata()[-1] * n == counts[-1]   # the last bucket: the largest waits
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    assert ax.get_ylim()[0] <= 1e-6                  # the tail shows to one in a million


def test_quantile_lines_and_bands_come_from_the_table(rows):
    fig = plot.quantiles(rows, x="throttle_depth")
    p99_ax, p999_ax = fig.axes[:2]
    for policy in ("hold", "rfc-v2"):
        mine = [r for r in rows if r["policy"] == policy]
        line = _line(p99_ax, policy)
        assert list(line.get_xdata()) == [r["throttle_depth"] for r in mine]
        assert list(line.get_ydata()) == [r["hp_wait_p99_ns"] for r in mine]
        assert list(_line(p999_ax, policy).get_ydata()) == [r["hp_wait_p999_ns"]
                                                            for r in mine]
    # the hold band spans the stored p99 interval at each depth
    band = p99_ax.collections[0].get_paths()[0].vertices
    hold = [r for r in rows if r["policy"] == "hold"]
    for r in hold:
        ys = band[band[:, 0] == r["throttle_depth"], 1]
        assert min(ys) == r["hp_wait_p99_lo_ns"] and max(ys) == r["hp_wait_p99_hi_ns"]
    # p99.9's interval is read off the exact histogram
    lo, hi = row_histogram(hold[1], "hp_wait").quantile_ci(0.999)
    ys = p999_ax.collections[0].get_paths()[0].vertices
    at7 = ys[ys[:, 0] == 7, 1]
    assert (min(at7), max(at7)) == (lo, hi)


def test_quantiles_caps_facets_and_says_what_it_left_out(rows):
    many = [dict(r, wake_ns=w) for w in range(8) for r in rows]
    fig = plot.quantiles(many, x="throttle_depth")
    assert len(fig.axes) == 2 * plot.MAX_FACETS
    assert any(f"{plot.MAX_FACETS} of 8 shown" in n for n in fig.mcsim_notes)
    assert any("of 8 shown" in t.get_text() for t in fig.texts)


def test_blame_bars_are_the_blame_counters_over_hp_reads(rows):
    fig = plot.blame(rows)
    hold_ax = fig.axes[0]
    hold = [r for r in rows if r["policy"] == "hold"]
    drawn = {c.get_label(): c for c in hold_ax.containers}
    heights = np.zeros((len(BLAME_NAMES), len(hold)))
    for b, name in enumerate(BLAME_NAMES):
        expected = [r[f"blame_{name}"] / r["hp_acq_wait_n"] for r in hold]
        if name not in drawn:                       # a step no row blames has no segment
            assert expected == [0.0] * len(hold), name
            continue
        for bar in drawn[name]:                     # bar i stands over row i
            heights[b, round(bar.get_x() + bar.get_width() / 2)] = bar.get_height()
        # a stacked bar stores its top and bottom, so its height is exact to a few ulps
        assert np.allclose(heights[b], expected, rtol=1e-12, atol=0)
        assert all(bar.get_height() > 0 for bar in drawn[name])   # no empty segments
    assert heights.sum() > 0                         # hold at writer_ratio 0.1 inverts
    assert np.allclose(heights.sum(axis=0), [r["inversion_fraction"] for r in hold],
                       rtol=1e-12)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == [n for n in BLAME_NAMES if any(r[f"blame_{n}"] for r in rows)]


def test_timeline_bars_are_the_script_intervals():
    tasks = [{"at": 0, "kind": "writer", "hold": "50us"},
             {"at": "10us", "kind": "hp_read", "hold": "10us"}]
    result = mcsim.run_script(tasks, policy="hold", wake=0)
    fig = plot.timeline(result)
    drawn = sorted((round(p.vertices[:, 0].min()), round(p.vertices[:, 0].max()))
                   for c in fig.axes[0].collections for p in c.get_paths())
    assert drawn == sorted((a, b) for (_t, _lane, a, b) in result.timeline)


def test_no_hp_samples_and_all_zero_tails_give_honest_empty_plots():
    none = mcsim.simulate(hp_rate=0.001, trials=500, seed=1).row()
    assert none["hp_wait_n"] == 0
    fig = plot.ccdf([none])
    assert fig.axes[0].get_lines() == [] and "no samples" in fig.mcsim_notes[0]
    fig = plot.quantiles([none, dict(none, throttle_depth=7)], x="throttle_depth")
    assert "no hp_wait samples" in " ".join(t.get_text() for t in fig.axes[0].texts)
    fig = plot.blame([none])
    assert "no HP reads" in fig.axes[0].texts[0].get_text()
    zero = mcsim.simulate(policy="rfc-v2", writer_ratio=0, trials=500, seed=1).row()
    assert zero["hp_wait_n"] > 0 and zero["hp_wait_max_ns"] == 0
    fig = plot.ccdf([zero])
    assert f"all {zero['hp_wait_n']:,} samples are 0" in fig.mcsim_notes[0]


def test_result_plot_is_the_ccdf_of_its_row(rows):
    result = mcsim.simulate(policy="hold", throttle_depth=7, writer_ratio=0.1,
                            trials=TRIALS, seed=3)
    ys = result.plot().axes[0].get_lines()[0].get_ydata()
    assert list(ys) == list(plot.ccdf([rows[1]]).axes[0].get_lines()[0].get_ydata())


def test_figures_never_touch_pyplot_and_help_never_imports_matplotlib():
    code = ("import sys, mcsim, mcsim.plot as p; "
            "p.ccdf(mcsim.simulate(trials=200, seed=1).to_arrow()); "
            "print('matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "False"
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "mcsim", "--help"],
                          cwd=REPO, capture_output=True, text=True, check=True)
    assert "matplotlib" not in proc.stderr


@pytest.fixture(scope="module")
def quick_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("plots") / "quick"
    return write_points(out, [{"policy": p, "throttle_depth": d, "writer_ratio": 0.1}
                              for p in ("hold", "rfc-v2") for d in (0, 7)], TRIALS, 1)


@pytest.mark.parametrize("kind,suffix,magic", [("ccdf", "png", b"\x89PNG"),
                                                ("quantiles", "svg", b"<?xml"),
                                                ("blame", "pdf", b"%PDF")])
def test_plot_command_writes_each_format(capsys, quick_dir, tmp_path, kind, suffix, magic):
    out = tmp_path / f"fig.{suffix}"
    args = ["--set", "throttle_depth=7"] if kind == "ccdf" else []
    code, stdout, err = cli(capsys, "plot", kind, quick_dir, "-o", out, *args)
    assert code == 0, err
    assert out.read_bytes().startswith(magic) and f"wrote {out}" in stdout


def test_plot_timeline_of_a_script(capsys, tmp_path):
    out = tmp_path / "tl.svg"
    code, _, err = cli(capsys, "plot", "timeline", SWEEPS / "scripts" / "read-miss.toml",
                       "--policy", "hold", "-o", out)
    assert code == 0, err
    assert "hp_read" in out.read_text()


@pytest.mark.parametrize("args,exit_code,words", [
    (["ccdf", "{dir}", "-o", "{tmp}/x.jpg"], 2, "allowed: .png, .svg or .pdf"),
    (["pie", "{dir}", "-o", "{tmp}/x.png"], 2, "is not a figure"),
    (["ccdf", "{dir}", "-o", "{tmp}/x.png", "--metric", "nope"], 2, "is not a metric"),
    (["quantiles", "{dir}", "-o", "{tmp}/x.png", "--x", "colour"], 2, "not a parameter"),
    (["ccdf", "{dir}", "-o", "{tmp}/x.png", "--set", "throttle_depth=3"], 2, "no rows match"),
    (["ccdf", "{tmp}", "-o", "{tmp}/x.png"], 4, "no result files"),
])
def test_plot_bad_input_is_one_line(capsys, quick_dir, tmp_path, args, exit_code, words):
    args = [a.format(dir=quick_dir, tmp=tmp_path) for a in args]
    code, out, err = cli(capsys, "plot", *args)
    assert code == exit_code and err.count("\n") == 1 and words in err, err
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "x.jpg").exists()


def test_an_axis_of_text_values_gets_categories_and_interval_bars(rows):
    hold = [r for r in rows if r["policy"] == "hold" and r["throttle_depth"] == 7][0]
    halved = {k: hold[k] / 2 for k in ("hp_wait_p99_ns", "hp_wait_p99_lo_ns",
                                       "hp_wait_p99_hi_ns")}
    two = [dict(hold, device="ssd-like"), dict(hold, device="hdd-like", **halved)]
    fig = plot.quantiles(two, x="device", by=None)
    ax = fig.axes[0]
    (bars,) = ax.containers                          # errorbar: data line, caps, bars
    line = bars.lines[0]
    assert bars.get_label() == "hp_wait"
    assert line.get_linestyle() == "None"            # no line joins two categories
    order = [t.get_text() for t in ax.get_xticklabels()]
    assert sorted(order) == ["hdd-like", "ssd-like"]
    by_label = {r["device"]: r["hp_wait_p99_ns"] for r in two}
    assert list(line.get_ydata()) == [by_label[name] for name in order]
