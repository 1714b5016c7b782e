"""mmap_lock traces of the real kernel beside the model (docs/traces.md).

- :mod:`.parse`: one line of tracefs text (``trace``/``trace_pipe``) or of
  ``trace-cmd report`` into an event;
- :mod:`.importer`: a trace into the same histograms and result row as a simulation,
  with ``source = "measured"``;
- :mod:`.placement`: where the kernel put woken tasks (its affine CPU busy while another
  was idle: stayed or not), the measure of the model's ``cpu_affinity``;
- :mod:`.returns`: after each release that ends a fault (``mkwrite``, same-VMA writer),
  which of the writer and the reader requests the lock first when they come back (R − W);
- :mod:`.timeline`: the lock acquisitions of a simulated script or random run;
- :mod:`.export`: those as tracefs text (the importer reads it back exactly) or as a
  Perfetto / Chrome trace-event JSON timeline;
- :mod:`.record`: capture a live trace through a private tracefs instance.

>>> from mcsim.trace.timeline import run_script_trial
>>> from mcsim.trace.export import tracefs_lines
>>> from mcsim.trace.importer import import_lines
>>> _, trial = run_script_trial([{"at": 0, "kind": "writer", "hold": "1ms"},
...                              {"at": "100us", "kind": "hp_read", "hold": "10us"}],
...                             kernel="4.19")
>>> import_lines(tracefs_lines([trial])).hists["hp_wait"].max()   # ns, as simulated
900000.0
"""
