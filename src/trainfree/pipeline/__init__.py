"""The workflow's stages as plain functions of (config, input paths, output paths).

One module per stage, named like its rule file (``workflow/rules/<stage>.smk``):
``data``, ``benchmarks``, ``sample``, ``score``, ``train``, ``analysis``, ``render``;
``common`` holds what several stages share (logging wrapper, ground-truth targets,
model arguments). Each Snakemake script only unpacks the ``snakemake`` object and
calls one function of its stage's module, so every step is importable, testable and
usable without Snakemake. A new stage adds one module here, one rule file and its
scripts. Outputs are written atomically (:mod:`trainfree.io`).
"""
