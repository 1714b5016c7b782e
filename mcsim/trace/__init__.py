"""mmap_lock traces of the real kernel beside the model (docs/traces.md).

- :mod:`.parse`: one line of tracefs text (``trace``/``trace_pipe``) or of
  ``trace-cmd report`` into an event;
- :mod:`.importer`: a trace into the same histograms and result row as a simulation,
  with ``source = "measured"``;
- :mod:`.timeline`: the lock acquisitions of a simulated script or random run;
- :mod:`.export`: those as tracefs text (the importer reads it back exactly) or as a
  Perfetto / Chrome trace-event JSON timeline;
- :mod:`.record`: capture a live trace through a private tracefs instance.
"""
