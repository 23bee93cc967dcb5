"""The workflow's stages as plain functions of (config, input paths, output paths).

One module per rule file (``workflow/rules/<stage>.smk``): ``data``, ``benchmarks``,
``sample``, ``score``, ``train``, ``search``, ``dtb``, ``analysis``, ``suitezero``, ``render``,
``report`` (and ``glance``, the default run's own table); ``common`` holds what several
stages share (logging wrapper, ground-truth targets, model arguments, shards). A rule, its
script (``workflow/scripts/<rule>.py``) and its function in the stage module share one name;
each script only unpacks the ``snakemake`` object and calls that function, so every step is
importable, testable and usable without Snakemake. A new stage adds one module here, one
rule file and one script per rule. Outputs are written atomically (:mod:`trainfree.io`).
"""
