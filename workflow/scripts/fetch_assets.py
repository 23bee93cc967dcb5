from trainfree.pipeline import fetch_assets, run_logged

sm = snakemake  # noqa: F821
run_logged(sm.log[0], fetch_assets, list(sm.params.assets), sm.params.root, sm.output[0])
