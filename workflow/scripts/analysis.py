from trainfree import pipeline

sm = snakemake  # noqa: F821
step = getattr(pipeline, sm.params.step)
pipeline.run_logged(sm.log[0], step, sm.config, sm.input.scores, sm.input.gt, sm.output[0])
