"""The README's three tables of the default study ("The default study"), printed from a run's outputs.

    python scripts/results_tables.py [--repo .]

Reads data/stats/summary.json, data/pie/summary.json and reports/results.json (after `dvc repro` or
`dvc pull`) and prints, as Markdown, the accuracy/PIE table, the beyond-accuracy table and the table of
what PIEs are and how sure each finding is, one row per
compressed config in params.yaml order, so the README's numbers are copied from a run, never typed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def load(repo: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    stats = json.loads((repo / "data/stats/summary.json").read_text())
    pie = json.loads((repo / "data/pie/summary.json").read_text())
    results = json.loads((repo / "reports/results.json").read_text())
    return stats, pie, results


def signed(x: float, digits: int = 4) -> str:
    return f"{x:+.{digits}f}".replace("-", "−")


def pair(a: float | None, b: float | None, digits: int) -> str:
    if a is None or b is None:
        return "– → –"
    return f"{a:.{digits}f} → {b:.{digits}f}"


def accuracy_table(stats: dict[str, Any], pie: dict[str, Any]) -> str:
    floor = stats["noise_floor"]["churn"]
    head = (
        "| config | top-1 drop | impacted classes (p ≤ 0.05 / FDR) | of them hurt | PIE fraction | "
        "top-1 on PIEs, dense → compressed | top-1 without PIEs, dense → compressed | "
        f"churn (noise floor {floor:.3f}) | ECE change |"
    )
    rows = [head, "|---|---|---|---|---|---|---|---|---|"]
    for name, s in stats["configs"].items():
        if name == "dense":
            continue
        p = pie["configs"][name]
        on_pies = pair(p.get("dense_top1_pie"), p.get("compressed_top1_pie"), 3) if p["pies"] else "– → –"
        rows.append(
            f"| {name} | {s['top1_drop']:.4f} | {s['impacted_classes']} / {s['impacted_classes_fdr']} | "
            f"{s['impacted_hurt_classes']} | {p['pie_fraction']:.4f} | {on_pies} | "
            f"{pair(p['dense_top1_non_pie'], p['compressed_top1_non_pie'], 4)} | {s['churn']:.3f} | "
            f"{signed(s['ece_change'])} |"
        )
    return "\n".join(rows)


def beyond_table(results: dict[str, Any]) -> str:
    dense = results["dense"]
    head = (
        f"| config | saliency MAD (dense floor {dense['saliency_mad_floor']:.3f}) | mCE | relative mCE | "
        "corrupted top-1 | PIE rate under corruption (clean: PIE fraction) | "
        f"CKA of the logits (dense floor {dense['cka_last_floor']:.3f}) |"
    )
    rows = [head, "|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        if name == "dense":
            continue
        rows.append(
            f"| {name} | {r['saliency_mad']:.3f} | {r['mce']:.3f} | {r['relative_mce']:.3f} | "
            f"{r['corrupted_top1']:.3f} | {r['corrupted_pie_rate']:.3f} ({r['pie_fraction']:.3f}) | "
            f"{r['cka_last']:.3f} |"
        )
    return "\n".join(rows)


def num(x: float | None, digits: int = 3, scale: float = 1.0) -> str:
    return "–" if x is None else f"{x * scale:.{digits}f}"


def certainty_table(stats: dict[str, Any], pie: dict[str, Any]) -> str:
    """What PIEs are and how sure each finding is (issue 17), one row per compressed config."""
    head = (
        "| config | PIEs | label issues, PIEs / rest (%) | enrichment [95% bootstrap] | vote agreement, "
        "PIEs / rest | atypicality, PIEs / rest | PIE set under leave-one-out: Jaccard mean (min), PIEs in "
        "every resample | impacted classes, stable / fragile | detectable change, median / worst class "
        "(pp) | members for 1 pp, median / worst class |"
    )
    rows = [head, "|---|---|---|---|---|---|---|---|---|---|"]
    for name, s in stats["configs"].items():
        if name == "dense":
            continue
        p = pie["configs"][name]
        interval = (
            f"[{num(p['enrichment_low'], 2)}, {num(p['enrichment_high'], 2)}]"
            if p.get("enrichment_low") is not None
            else "–"
        )
        rows.append(
            f"| {name} | {p['pies']} | {num(p['label_issue_rate_pies'], 1, 100)} / "
            f"{num(p['label_issue_rate_rest'], 1, 100)} | {num(p['label_issue_enrichment'], 2)} {interval} | "
            f"{num(p['agreement_pies'], 2)} / {num(p['agreement_rest'], 2)} | "
            f"{num(p['atypicality_pies'], 2)} / {num(p['atypicality_rest'], 2)} | "
            f"{num(p['pie_jaccard_loo_mean'], 2)} ({num(p['pie_jaccard_loo_min'], 2)}), {p['pies_stable']} | "
            f"{s['impacted_stable_classes']} / {s['impacted_fragile_classes']} | "
            f"±{num(s['detectable_change_median'], 2, 100)} / ±{num(s['detectable_change_worst'], 2, 100)} | "
            f"{s['members_needed_median']} / {s['members_needed_worst']} |"
        )
    return "\n".join(rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repo", type=Path, default=Path("."), help="the study's repository (default: here)")
    args = p.parse_args()
    stats, pie, results = load(args.repo)
    dense = stats["configs"]["dense"]
    print(f"dense top-1 {dense['top1']:.4f} ± {dense['top1_std']:.4f} over {dense['members']} members\n")
    print(accuracy_table(stats, pie))
    print()
    print(beyond_table(results))
    print()
    print(certainty_table(stats, pie))


if __name__ == "__main__":
    main()
