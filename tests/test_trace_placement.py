"""Where the kernel put woken tasks (mcsim.trace.placement): hand-made scheduler lines
whose classification follows from the rules of docs/traces.md ("Placement"), and a real
excerpt of this machine's kernel (tests/data/placement_6.18.trace) whose counts were
derived by hand from its lines.

The hand-made lines are shaped as tracefs prints them: ``sched_waking``'s ``target_cpu``
is the wakee's CPU *before* ``select_task_rq()`` (the tracepoint fires first in
``try_to_wake_up()``, kernel/sched/core.c), ``sched_wakeup``'s the CPU chosen.
"""
from __future__ import annotations

from pathlib import Path

from mcsim.trace.importer import import_lines
from mcsim.trace.placement import Placement

DATA = Path(__file__).parent / "data"
FIXTURE = DATA / "placement_6.18.trace"


def own(comm, pid, cpu, ts):
    """A syscall of a task: it is one of the trace's, and it runs on ``cpu``."""
    return f"{comm}-{pid} [{cpu:03d}] ..... {ts}: sys_read(fd: 0, buf: 0, count: 1)"


def switch(cpu, ts, prev, state, nxt):
    """``prev`` and ``nxt`` as (comm, pid); pid 0 is the idle task (swapper)."""
    pc, pp = prev
    nc, np_ = nxt
    task = "<idle>-0" if pp == 0 else f"{pc}-{pp}"
    return (f"{task} [{cpu:03d}] d..2. {ts}: sched_switch: prev_comm={pc} prev_pid={pp} "
            f"prev_prio=120 prev_state={state} ==> next_comm={nc} next_pid={np_} "
            f"next_prio=120")


def waking(waker, cpu, flags, ts, wakee, prev_cpu):
    """``waker`` (comm, pid) on ``cpu`` wakes ``wakee``; ``flags`` the irq-info column."""
    task = "<idle>-0" if waker[1] == 0 else f"{waker[0]}-{waker[1]}"
    return (f"{task} [{cpu:03d}] {flags} {ts}: sched_waking: comm={wakee[0]} "
            f"pid={wakee[1]} prio=120 target_cpu={prev_cpu:03d}")


def wakeup(waker, cpu, flags, ts, wakee, chosen):
    task = "<idle>-0" if waker[1] == 0 else f"{waker[0]}-{waker[1]}"
    return (f"{task} [{cpu:03d}] {flags} {ts}: sched_wakeup: comm={wakee[0]} "
            f"pid={wakee[1]} prio=120 target_cpu={chosen:03d}")


A, B, C = ("a", 10), ("b", 11), ("c", 12)
IDLE = ("swapper", 0)


def _a_asleep_on_0_b_runs_on_1():
    """a runs on CPU 0 and sleeps (CPU 0 idle); b runs on CPU 1."""
    return [own("a", 10, 0, "1.000000"), own("b", 11, 1, "1.000001"),
            switch(0, "1.000002", A, "S", IDLE)]


def _counts(lines, kind):
    p = import_lines(lines).placement
    return p, {k: v for k, v in p.by_kind[kind].items() if v}


def test_task_wakes_onto_its_own_cpu_while_the_other_is_idle_choice_and_stayed():
    """b (running on CPU 1) wakes a, whose CPU 0 is idle: the affine target is b's CPU 1,
    busy (b runs it), and CPU 0 is idle: a choice.  sched_wakeup puts a on CPU 1: stayed.
    (sched_waking's target_cpu=000 is a's previous CPU; read as the choice, it would
    say 'moved'.)"""
    lines = _a_asleep_on_0_b_runs_on_1() + [
        waking(B, 1, "d..3.", "1.000010", A, 0), wakeup(B, 1, "d..4.", "1.000011", A, 1)]
    p, task = _counts(lines, "task")
    assert task == {"wakeups": 1, "choices": 1, "stayed": 1}
    assert (p.choices, p.stayed, p.affinity) == (1, 1, 1.0)


def test_task_wakes_onto_the_idle_cpu_choice_not_stayed():
    lines = _a_asleep_on_0_b_runs_on_1() + [
        waking(B, 1, "d..3.", "1.000010", A, 0), wakeup(B, 1, "d..4.", "1.000011", A, 0)]
    p, task = _counts(lines, "task")
    assert task == {"wakeups": 1, "choices": 1}
    assert (p.choices, p.stayed, p.affinity) == (1, 0, 0.0)


def test_both_cpus_busy_no_choice():
    """c runs on CPU 0 after a slept there: no CPU is idle when b wakes a."""
    lines = _a_asleep_on_0_b_runs_on_1()[:-1] + [
        own("c", 12, 0, "1.000001"), switch(0, "1.000002", A, "S", C),
        waking(B, 1, "d..3.", "1.000010", A, 0), wakeup(B, 1, "d..4.", "1.000011", A, 1)]
    p, task = _counts(lines, "task")
    assert task == {"wakeups": 1, "none_idle": 1}
    assert p.choices == 0 and p.affinity is None


def test_interrupt_wake_on_an_idle_cpu_target_idle_no_choice():
    """A timer interrupt on idle CPU 0 (``d.h3.``, the idle task interrupted) wakes a,
    which last ran on CPU 0: the affine target is CPU 0, idle: no choice, although the
    wake-up happens while b keeps CPU 1 busy."""
    lines = _a_asleep_on_0_b_runs_on_1() + [
        waking(IDLE, 0, "d.h3.", "1.000010", A, 0), wakeup(IDLE, 0, "d.h4.", "1.000011", A, 0)]
    p, irq = _counts(lines, "interrupt")
    assert irq == {"wakeups": 1, "target_idle": 1}
    assert p.by_kind["task"]["wakeups"] == 0 and p.choices == 0


def test_interrupt_in_a_running_task_is_no_task_waker():
    """b's line in hard-interrupt context (``d.h2.``) wakes a: the waker is the interrupt,
    so the affine target is a's previous CPU (0, idle), not b's CPU 1."""
    lines = _a_asleep_on_0_b_runs_on_1() + [
        waking(B, 1, "d.h2.", "1.000010", A, 0), wakeup(B, 1, "d.h3.", "1.000011", A, 0)]
    _, irq = _counts(lines, "interrupt")
    assert irq == {"wakeups": 1, "target_idle": 1}


def test_a_woken_task_not_yet_running_makes_its_cpu_busy():
    """One timer interrupt on idle CPU 0 wakes a, then c (both last ran on CPU 0), CPU 1
    idle.  a: target idle, put on CPU 0.  c: CPU 0 now holds a, woken and not yet
    switched in, so it is busy, and CPU 1 is idle: a choice; c put on CPU 0: stayed.
    Once a and c have run and CPU 0 has gone idle, a third wake-up of a finds its target
    idle again."""
    lines = [own("a", 10, 0, "1.000000"), own("b", 11, 1, "1.000000"),
             switch(0, "1.000001", A, "S", C), own("c", 12, 0, "1.0000015"),
             switch(0, "1.000002", C, "S", IDLE),
             switch(1, "1.000003", B, "S", IDLE),
             waking(IDLE, 0, "d.h3.", "1.000010", A, 0),
             wakeup(IDLE, 0, "dNh4.", "1.000011", A, 0),
             waking(IDLE, 0, "dNh3.", "1.000012", C, 0),
             wakeup(IDLE, 0, "dNh4.", "1.000013", C, 0),
             switch(0, "1.000020", IDLE, "R", A), switch(0, "1.000030", A, "S", C),
             switch(0, "1.000040", C, "S", IDLE),
             waking(IDLE, 0, "d.h3.", "1.000100", A, 0),
             wakeup(IDLE, 0, "dNh4.", "1.000101", A, 0)]
    p, irq = _counts(lines, "interrupt")
    assert irq == {"wakeups": 3, "target_idle": 2, "choices": 1, "stayed": 1}
    assert p.stale == 0


def test_a_task_seen_running_is_no_longer_queued():
    """b on CPU 1 wakes a onto idle CPU 0; a's switch in is missing (as the filtered
    recordings of this kernel miss switches from the idle task on one CPU), but a's own
    line on CPU 0 shows it running: a stale look, and a leaves CPU 0's queue.  a then
    sleeps (c runs on CPU 0), and an interrupt in b's time wakes a: a is on no run queue,
    so this is a placement: its previous CPU 0 busy with c, CPU 1 with b: no CPU idle."""
    lines = _a_asleep_on_0_b_runs_on_1() + [
        waking(B, 1, "d..3.", "1.000010", A, 0), wakeup(B, 1, "d..4.", "1.000011", A, 0),
        own("a", 10, 0, "1.000020"), switch(0, "1.000030", A, "S", C),
        waking(B, 1, "d.h2.", "1.000040", A, 0), wakeup(B, 1, "d.h3.", "1.000041", A, 0)]
    p, irq = _counts(lines, "interrupt")
    assert irq == {"wakeups": 1, "none_idle": 1}
    assert p.stale == 1 and (p.choices, p.stayed) == (1, 0)


def test_what_is_not_classified():
    """A wakee that is not one of the trace's tasks (no syscall or lock event of its
    comm: a kernel worker) is not counted; an interrupt wake-up of a task never seen
    switching (d, which ran on CPU 1 before b, so it is not running) has no affine
    target; a task woken before it switched out is still on its run queue (no
    placement)."""
    lines = [own("d", 13, 1, "1.000000"), own("a", 10, 0, "1.000000"),
             own("b", 11, 1, "1.000001"),
             waking(B, 1, "d..3.", "1.000002", ("kworker/1:1", 40), 1),
             wakeup(B, 1, "d..4.", "1.000003", ("kworker/1:1", 40), 1),
             waking(B, 1, "d.h3.", "1.000004", ("d", 13), 1),  # d never switched
             waking(B, 1, "d..3.", "1.000005", A, 0)]         # a still runs on CPU 0
    p = import_lines(lines).placement
    assert p.total("wakeups") == 2
    assert p.by_kind["interrupt"]["no_target"] == 1
    assert p.by_kind["task"]["on_rq"] == 1
    assert p.choices == 0


def test_a_choice_without_sched_wakeup_is_undecided_not_moved():
    """A trace without sched_wakeup (recorded before it was enabled) cannot say where a
    task went: its choices are 'undecided' and the affinity stays unknown."""
    lines = _a_asleep_on_0_b_runs_on_1() + [waking(B, 1, "d..3.", "1.000010", A, 0),
                                            switch(1, "1.000020", B, "S", A)]
    p = import_lines(lines).placement
    assert p.by_kind["task"]["choices"] == 1 and p.by_kind["task"]["undecided"] == 1
    assert p.choices == 0 and p.affinity is None


def test_stale_view_and_malformed_lines_are_counted_never_fatal():
    """A line of task c on CPU 1 where the trace last showed b: the view was stale
    (a switch between tasks the recording filtered out).  A sched_wakeup without
    target_cpu and a sched_waking with a non-numeric pid are bad fields."""
    lines = _a_asleep_on_0_b_runs_on_1() + [
        own("c", 12, 1, "1.000005"),
        "b-11 [001] d..4. 1.000006: sched_wakeup: comm=a pid=10 prio=120",
        "b-11 [001] d..4. 1.000007: sched_waking: comm=a pid=x prio=120 target_cpu=000",
        "b-11 [001] d..4. 1.000008: sched_wakeup: comm=a pid=10 prio=120 target_cpu=zz"]
    imp = import_lines(lines)
    assert imp.placement.stale == 2          # c after b, then b after c
    assert imp.lines["bad_field"] == 3
    assert sum(imp.lines.values()) >= len(lines)


def test_pooled_placements_add_up():
    one, two = Placement(), Placement()
    one.by_kind["task"].update(wakeups=3, choices=2, stayed=1)
    two.by_kind["interrupt"].update(wakeups=5, choices=4, stayed=3, undecided=1)
    two.stale = 7
    pooled = Placement.pooled([one, two])
    assert (pooled.choices, pooled.stayed, pooled.stale) == (5, 4, 7)
    assert pooled.affinity == 4 / 5


def test_a_real_excerpt_counted_by_hand():
    """tests/data/placement_6.18.trace: 40 lines of `mcsim repro --path retry --delay 5ms
    --writer same` recorded on this machine (docs/traces.md, "The fixtures").  By hand,
    CPU 0 and CPU 1, the trace's tasks being reader, target and fusedelay (each makes a
    syscall or lock event before it is woken here):

    - .017150 a timer interrupt on idle CPU 1 wakes reader-31929, last on CPU 1 (its
      switch out at .016096): target CPU 1 idle (target-31931 left it for the idle task
      at .016113): no choice.
    - .022427 an interrupt on CPU 0 wakes fusedelay-31926 (last on CPU 0 at .017379); the
      trace last showed python-31951 on CPU 0, but this line is the idle task's: CPU 0
      went idle unseen (stale look 2; look 1 was reader-31929 on CPU 1 at .017158, whose
      switch in was not recorded), so its queue (python-31950, preempted at .017348) is
      gone: target idle, no choice.
    - .022464 fusedelay-31926, running on CPU 0, wakes target-31930: affine CPU 0 busy,
      CPU 1 idle (reader-31929 switched to the idle task at .017163): a choice; its
      sched_wakeup (.022469) says CPU 0: stayed.
    - .022501 target-31930, on CPU 0, wakes target-31931: CPU 0 busy, CPU 1 idle: a
      choice; sched_wakeup (.022505) says CPU 1: moved (its sched_waking said 001 too:
      its previous CPU).
    - .023344 python-31953 switches on CPU 1, where the trace held the idle task: stale
      look 3.  .023356 target-31931 on CPU 1 wakes reader-31929: CPU 1 busy, CPU 0 idle
      (target-31930 switched to the idle task at .022523): a choice; .023360 says CPU 1:
      stayed.
    - .023570 an interrupt on idle CPU 0 wakes target-31930, last on CPU 0: target idle.

    Task wakers 2 of 3 stayed; interrupts: 3 wake-ups, all with their target idle."""
    text = FIXTURE.read_text()
    for quoted in ("<idle>-0       [001] d.h3. 37389.017150: sched_waking: comm=reader pid=31929",
                   "fusedelay-31926   [000] d..3. 37389.022464: sched_waking: comm=target pid=31930",
                   "37389.022469: sched_wakeup: comm=target pid=31930 prio=120 target_cpu=000",
                   "target-31930   [000] d..3. 37389.022501: sched_waking: comm=target pid=31931 prio=120 target_cpu=001",
                   "37389.022505: sched_wakeup: comm=target pid=31931 prio=120 target_cpu=001",
                   "target-31931   [001] d..3. 37389.023356: sched_waking: comm=reader pid=31929",
                   "37389.023360: sched_wakeup: comm=reader pid=31929 prio=120 target_cpu=001",
                   "python-31953   [001] d..2. 37389.023344: sched_switch"):
        assert quoted in text
    lines = text.splitlines()
    imp = import_lines(lines)
    p = imp.placement
    assert {k: v for k, v in p.by_kind["task"].items() if v} == {
        "wakeups": 3, "choices": 3, "stayed": 2}
    assert {k: v for k, v in p.by_kind["interrupt"].items() if v} == {
        "wakeups": 3, "target_idle": 3}
    assert (p.choices, p.stayed, p.stale) == (3, 2, 3)
    assert imp.lines["sched_wakeup"] == sum("sched_wakeup:" in line for line in lines)
    assert sum(imp.lines.values()) == len(lines)


def test_cli_import_shows_a_placement_row(capsys):
    """The counts derived by hand above, in `mcsim trace import`'s row and --json; a
    trace without scheduler events has neither."""
    import json

    from mcsim.cli import main

    assert main(["trace", "import", str(FIXTURE)]) == 0
    text = capsys.readouterr().out
    assert ("placement: 6 wake-ups, 3 choices (affine CPU busy, another idle), 2 stayed: "
            "affinity 0.667; by a task 2/3, by an interrupt or idle 0/0") in text
    assert main(["trace", "import", str(FIXTURE), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)["placement"]
    assert (out["choices"], out["stayed"], out["stale"]) == (3, 2, 3)
    assert out["by_waker"]["interrupt"]["target_idle"] == 3
    assert main(["trace", "import", str(DATA / "mmap_lock_6.18.trace"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["placement"] is None
