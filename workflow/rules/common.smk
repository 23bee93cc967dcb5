# Shared paths and helpers. Every output lives under results/<study>/.
import json

R = f"results/{config['study']}"
SHARDS = list(range(config["scoring"]["shards"]))
FAST_STEPS = sorted(set([0] + list(config["scoring"]["fast_steps"])))
TRAINING = config["ground_truth"]["kind"] == "training"
DEVICE = config.get("device", "cpu")
FETCHED = [f"{R}/data/fetched.json"] if config["downloads"]["assets"] else []


def all_targets():
    out = []
    if "suitezero" in config["outputs"]:
        out += [f"{R}/tables/suitezero_validation.csv", f"{R}/tables/unification_matrix.csv",
                f"{R}/figures/unification_heatmap.pdf", f"{R}/provenance.json"]
    if "dtb" in config["outputs"]:
        out += dtb_targets()
    if "study" not in config["outputs"]:
        return out
    figs = [f"{R}/figures/scatter_{m}.pdf" for m in config["scoring"]["metrics"]]
    figs += [f"{R}/figures/correlation_bars.pdf"]
    tables = [f"{R}/tables/correlations.csv", f"{R}/provenance.json"]
    if {"naswot", "distinguishing_ability", "activation_units"} <= set(config["scoring"]["metrics"]):
        figs.append(f"{R}/figures/atoms.pdf")
        tables.append(f"{R}/tables/das_ablation.csv")
    if len(FAST_STEPS) > 1:
        figs.append(f"{R}/figures/fast_training.pdf")
        tables.append(f"{R}/tables/fast_training.csv")
    if not TRAINING and config["space"] == "nb201" and "naswot" in config["scoring"]["metrics"]:
        tables.append(f"{R}/tables/paper_vs_ours.csv")
    if TRAINING:
        figs.append(f"{R}/figures/learning_curves.pdf")
    return out + tables + figs


def dtb_targets():
    """DTB folder, tables and figures (DTB, DTB_KINDS: workflow/rules/dtb.smk)."""
    return [f"{DTB}/manifest.json", f"{R}/figures/dtb/summary.pdf", f"{R}/figures/dtb/fast_training.pdf"] + [
        f"{R}/tables/dtb/{kind}.csv" for kind in DTB_KINDS
    ]


def figure_inputs(wildcards):
    name = wildcards.name
    if name == "learning_curves":
        return {"states": f"{R}/training_states.parquet"}
    if name == "fast_training":
        return {"table": f"{R}/tables/fast_training.csv"}
    if name == "correlation_bars":
        return {"table": f"{R}/tables/correlations.csv"}
    return {"scores": f"{R}/scores.parquet", "gt": f"{R}/ground_truth.parquet"}
