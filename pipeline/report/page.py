"""The one-page HTML report (SPEC section 12): plain strings, every value through ``html.escape``.

The page is self-contained: inline CSS, no script, no external resource; images are referenced by the
relative paths given in ``images`` (key -> src, keys from :mod:`pipeline.report.write`).  It carries no
date, so the same inputs give the same bytes.  A missing number (None, NaN) reads "n/a".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from pipeline.numbers import finite
from pipeline.report.load import CONTROL, DATASET_TITLES, DENSE, Inputs, member_mean

NA = '<span class="na">n/a</span>'

CSS = """
body { font: 15px/1.5 "Segoe UI", "Helvetica Neue", Arial, sans-serif; color: #1b1b1b; margin: 0; }
main { max-width: 1240px; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
h1 { font-size: 1.7rem; margin-bottom: 0.3rem; }
h2 { font-size: 1.3rem; border-bottom: 1px solid #ccc; padding-bottom: 0.2rem; margin-top: 2.4rem; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 0.3rem; }
p, figcaption, caption { max-width: 62rem; }
code { font-family: Consolas, "DejaVu Sans Mono", monospace; font-size: 0.92em; }
nav ol { columns: 2; max-width: 40rem; }
.wide { overflow-x: auto; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.8rem; }
th, td { padding: 0.22rem 0.4rem; border-bottom: 1px solid #e2e2e2; }
th { background: #f3f3f3; vertical-align: bottom; text-align: left; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.beyond { background: #ffe0b8; font-weight: 700; }
tr.dense td { background: #f7f7f7; }
caption { caption-side: bottom; text-align: left; font-size: 0.85rem; color: #444; padding-top: 0.4rem; }
figure { margin: 1.2rem 0 2rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #e6e6e6; }
figcaption { font-size: 0.88rem; color: #333; margin-top: 0.3rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(540px, 1fr)); gap: 0 1.5rem; }
.grid figure { margin: 0.6rem 0 1.4rem; }
.na { color: #888; }
.note { color: #555; font-size: 0.88rem; }
"""


# --------------------------------------------------------------------------------------------- formatting


def number(value: Any, digits: int = 3, scale: float = 1.0, sign: bool = False) -> str:
    """``value * scale`` with ``digits`` decimals (and a sign if asked), or n/a."""
    v = finite(value)
    if v is None:
        return NA
    text = f"{v * scale:+.{digits}f}" if sign else f"{v * scale:.{digits}f}"
    return text.replace("-", "−")


def level(value: Any, scale: float = 1.0) -> str:
    """A threshold or confidence level as given (0.001 stays 0.001, 0.995 x 100 reads 99.5), or n/a."""
    v = finite(value)
    return NA if v is None else f"{v * scale:g}"


def count(value: Any) -> str:
    v = finite(value)
    return NA if v is None else str(round(v))


def beyond_floor(value: Any, floor: Any, above: bool) -> bool:
    """True when ``value`` lies beyond ``floor`` (above it when ``above``, else below); False if either is
    missing."""
    v, f = finite(value), finite(floor)
    if v is None or f is None:
        return False
    return v > f if above else v < f


def with_floor(value: Any, floor: Any, digits: int = 3) -> str:
    return f'{number(value, digits)} <span class="note">({number(floor, digits)})</span>'


def cell(content: str, numeric: bool = True, beyond: bool = False) -> str:
    classes = " ".join(c for c, on in (("num", numeric), ("beyond", beyond)) if on)
    return f'<td class="{classes}">{content}</td>' if classes else f"<td>{content}</td>"


def table(headers: Sequence[tuple[str, bool]], rows: Iterable[str], caption: str = "") -> str:
    """``headers``: (html, numeric); ``rows``: finished <tr> elements."""
    head = "".join(f'<th class="num">{h}</th>' if num else f"<th>{h}</th>" for h, num in headers)
    cap = f"<caption>{caption}</caption>" if caption else ""
    return (
        f'<div class="wide"><table>{cap}<thead><tr>{head}</tr></thead><tbody>\n'
        + "\n".join(rows)
        + ("\n</tbody></table></div>")
    )


def figure(src: str | None, alt: str, caption: str) -> str:
    if src is None:
        return f'<p class="note">{caption} (no image: nothing to draw)</p>'
    return (
        f'<figure><a href="{escape(src)}"><img src="{escape(src)}" alt="{escape(alt)}" loading="lazy"></a>'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def grid(cards: Sequence[str]) -> str:
    """Per-config figures side by side, as many columns as the window holds."""
    return '<div class="grid">' + "\n".join(cards) + "</div>" if cards else ""


def pct(value: Any, digits: int = 2) -> str:
    return number(value, digits, scale=100.0)


# ------------------------------------------------------------------------------------------------- page


def render(inputs: Inputs, images: Mapping[str, str]) -> str:
    """The whole page: title, study paragraph, contents, then one section per part of the study."""
    sections = [
        ("summary", "Summary table", summary_section(inputs)),
        ("accuracy", "Accuracy and PIEs against compression", accuracy_section(inputs, images)),
        ("per-class", "Per-class impact", per_class_section(inputs, images)),
        ("confusion", "Confusion changes", confusion_section(inputs, images)),
        ("pie-gallery", "PIE gallery", gallery_section(inputs, images)),
        ("pie-overlap", "PIE overlap between configs", overlap_section(images)),
        ("what-pies-are", "What PIEs are", traits_section(inputs, images)),
        ("certainty", "How sure each finding is", certainty_section(inputs)),
        ("saliency", "Saliency", saliency_section(inputs, images)),
        ("robustness", "Robustness to corruptions", robustness_section(inputs, images)),
        ("cka", "Representations: CKA per layer", cka_section(inputs, images)),
        ("activation-max", "Activation maximization", activation_section(inputs, images)),
    ]
    toc = "".join(f'<li><a href="#{sid}">{escape(title)}</a></li>' for sid, title, _ in sections)
    body = "\n".join(
        f'<section id="{sid}">\n<h2>{escape(title)}</h2>\n{content}\n</section>'
        for sid, title, content in sections
    )
    title = (
        f"What compressed networks forget: {DATASET_TITLES.get(inputs.study.dataset, inputs.study.dataset)}"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>{escape(title)}</h1>\n{intro(inputs)}\n"
        f"<nav><h2>Contents</h2><ol>{toc}</ol></nav>\n{body}\n{footer()}\n</main>\n</body>\n</html>\n"
    )


def intro(inputs: Inputs) -> str:
    study, stats = inputs.study, inputs.stats
    dataset = DATASET_TITLES.get(study.dataset, study.dataset)
    n = len(study.configs)
    return (
        f"<p>This page compares {n} configurations (dense and {n - 1} compressed) of a "
        f"<code>{escape(study.arch)}</code> network trained on {escape(dataset)} "
        f"(<code>{escape(study.dataset)}</code>), evaluated on {count(inputs.test_examples)} test "
        f"examples of {len(inputs.class_names)} classes. Each config is a population: the same "
        f"{len(study.seeds)} seeds ({escape(', '.join(map(str, study.seeds)))}) trained densely, each "
        "member compressed the same way, "
        "so every number is a mean over members with its spread, not the luck of one model.</p>\n"
        "<p><strong>How to read it.</strong> <em>Dense</em> is the reference: every change is compressed "
        "minus dense, member against the dense member of the same seed. A <em>noise floor</em> is the same "
        "measure taken between two dense members of different seeds (dense vs dense): a config that stays "
        "within its floor changes the network no more than retraining with another seed would. A class is "
        f"<em>impacted</em> when Welch's t-test over the members gives p ≤ {level(stats.get('alpha'))}, "
        "and impacted after FDR when it survives the Benjamini–Hochberg correction at "
        f"q ≤ {level(stats.get('fdr'))}; intervals are at {level(stats.get('confidence'), 100.0)} % "
        "confidence. A <em>PIE</em> (pruning identified exemplar) is a test example whose most frequent "
        "label over the compressed members differs from that over the dense members.</p>"
    )


def footer() -> str:
    return (
        '<p class="note">Written by the <code>report</code> stage '
        "(<code>python -m pipeline.stages.report</code>) from the outputs of the predict, stats, pie, "
        "saliency, robustness and representations stages. The same numbers are in "
        "<code>results.json</code>, the headline ones per config in <code>metrics/</code> "
        "(<code>dvc metrics show</code>, <code>dvc exp show</code>); the plot "
        "tables feed <code>dvc plots show</code>.</p>"
    )


# ---------------------------------------------------------------------------------------- summary table


def summary_section(inputs: Inputs) -> str:
    stats = inputs.stats
    floor = (stats.get("noise_floor") or {}).get("churn")
    k = len(inputs.class_names)
    headers = [
        ("config", False),
        ("kind", False),
        ("size ratio", True),
        ("top-1 (%)<br>mean ± std", True),
        ("top-1 drop<br>vs dense (pp)", True),
        (f"impacted classes<br>p ≤ {level(stats.get('alpha'))} (of {k})", True),
        (f"impacted after<br>FDR {level(stats.get('fdr'))}", True),
        ("PIE fraction (%)", True),
        (f"churn (%)<br>floor {pct(floor)}", True),
        ("ECE change<br>(pp)", True),
        ("saliency MAD<br>(floor)", True),
        ("mCE", True),
        ("last-layer CKA<br>(floor)", True),
    ]
    caption = (
        "One row per config, in the order of params.yaml. Shaded cells lie beyond their dense-vs-dense noise "
        "floor: churn above the churn between two dense seeds, saliency MAD above the MAD between two dense "
        "members' maps, last-layer CKA below the CKA between two dense members. Size ratio: stored bytes "
        "against the dense model. Top-1 drop: dense minus compressed, in percentage points. mCE: mean "
        "corruption error relative to dense (1 = as robust as dense)."
    )
    rows = [summary_row(inputs, name) for name in inputs.study.configs]
    return table(headers, rows, caption)


def summary_row(inputs: Inputs, name: str) -> str:
    s = inputs.stats_of(name)
    pie = inputs.pie_of(name)
    sal = inputs.saliency.get(name) or {}
    rob = inputs.robustness.get(name) or {}
    rep = inputs.representations.get(name) or {}
    sal_floor = (sal.get("noise_floor") or {}).get("mad")
    layers = rep.get("layers") or []
    cka_floor = layers[-1].get("floor_linear_cka") if layers else None
    pie_fraction = 0.0 if name == DENSE else (pie or {}).get("pie_fraction")
    size = member_mean(inputs.predict[name]["members"], "size_ratio")
    cells = [
        f"<td><strong>{escape(name)}</strong></td>",
        cell(escape(inputs.study.kinds[name]), numeric=False),
        cell(number(size)),
        cell(f"{pct(s.get('top1'))} ± {pct(s.get('top1_std'))}"),
        cell(pct(s.get("top1_drop"))),
        cell(count(s.get("impacted_classes"))),
        cell(count(s.get("impacted_classes_fdr"))),
        cell(pct(pie_fraction)),
        cell(pct(s.get("churn")), beyond=beyond_floor(s.get("churn"), s.get("churn_noise_floor"), True)),
        cell(number(s.get("ece_change"), 2, 100.0, sign=True)),
        cell(with_floor(sal.get("mad"), sal_floor), beyond=beyond_floor(sal.get("mad"), sal_floor, True)),
        cell(number(rob.get("mce"))),
        cell(
            with_floor(rep.get("cka_last"), cka_floor),
            beyond=beyond_floor(rep.get("cka_last"), cka_floor, False),
        ),
    ]
    css = ' class="dense"' if name == DENSE else ""
    return f"<tr{css}>" + "".join(cells) + "</tr>"


# ------------------------------------------------------------------------------------------------ figures


def accuracy_section(inputs: Inputs, images: Mapping[str, str]) -> str:
    confidence = level(inputs.stats.get("confidence"), 100.0)
    return figure(
        images.get("accuracy"),
        "top-1 and PIE fraction against the size ratio",
        "<strong>Left:</strong> clean top-1 accuracy of each config's population against its storage size "
        "relative to the dense model (mean over members, log scale). Large dot: population mean; error "
        f"bar: {confidence} % t-interval of that mean over the members; small dots: the individual members "
        "(seeds); dotted line: dense top-1. <strong>Right:</strong> the PIE fraction, the share of test "
        "examples whose modal label over the compressed members differs from the dense members' modal "
        "label (0 for dense by definition). Colour: the kind of compression (pruning, quantization, both, "
        "random pruning as the control, dense).",
    )


def per_class_section(inputs: Inputs, images: Mapping[str, str]) -> str:
    from pipeline.report.write import per_class_arrays, per_class_limit

    kinds = [inputs.study.kinds[name] for name in inputs.study.compressed]
    scale = "The colour scale is symmetric around 0"
    if CONTROL in kinds and per_class_limit(per_class_arrays(inputs)[0], kinds) is not None:
        scale += (
            " and ends at the largest change of any config but the random control, whose larger changes "
            "saturate it"
        )
    scale += "."
    return figure(
        images.get("per_class"),
        "per-class recall change per config",
        "Change in the recall of each class (rows: compressed configs; columns: classes): compressed "
        "population mean minus dense population mean, in percentage points; red: the class lost recall. "
        "<strong>*</strong>: "
        f"impacted, Welch's t-test over members on the recall normalized by each population's top-1 gives "
        f"p ≤ {level(inputs.stats.get('alpha'))} (the class lost more, or less, than top-1 did); "
        "<strong>**</strong> (bold): still impacted after the Benjamini–Hochberg correction at "
        f"q ≤ {level(inputs.stats.get('fdr'))} over the classes. {scale}",
    )


def confusion_section(inputs: Inputs, images: Mapping[str, str]) -> str:
    fig = figure(
        images.get("confusion"),
        "confusion-rate differences per config",
        "Row-normalized confusion matrices, population mean of the compressed members minus that of the "
        "dense members (rows: true class, columns: predicted class). Red off the diagonal: a confusion the "
        "compressed models make more often; blue on the diagonal: recall lost. All panels share one "
        "symmetric colour scale, so they can be compared; it is linear within ±1 percentage point and "
        "logarithmic beyond, so that a change of a few points shows beside one of tens.",
    )
    rows = []
    for name in inputs.study.compressed:
        top = [r for r in inputs.confusion_changes if r["config"] == name and (finite(r["change"]) or 0) > 0]
        top.sort(key=lambda r: (-float(r["change"]), r["true"], r["predicted"]))
        rows += [
            "<tr>"
            + cell(escape(name), numeric=False)
            + cell(f"{escape(r['true_name'])} → {escape(r['predicted_name'])}", numeric=False)
            + cell(pct(r.get("dense_rate")))
            + cell(pct(r.get("compressed_rate")))
            + cell(number(r.get("change"), 2, 100.0, sign=True))
            + "</tr>"
            for r in top[:3]
        ]
    headers = [("config", False), ("true → predicted", False), ("dense (%)", True)]
    headers += [("compressed (%)", True), ("change (pp)", True)]
    caption = (
        "The three largest increases of an off-diagonal confusion rate per config (none listed: no increase)."
    )
    return fig + "\n<h3>Largest new confusions</h3>\n" + table(headers, rows, caption)


def gallery_section(inputs: Inputs, images: Mapping[str, str]) -> str:
    parts = [
        "<p>For each config, the first page of its PIE gallery: the most disputed PIEs first (largest L1 "
        "distance between the dense and compressed members' label votes), each with its true label, the "
        "dense modal label (D) and the compressed modal label (C) with their votes; green right, red wrong. "
        "Every PIE is listed in the pie stage's <code>pies.csv</code> of that config.</p>"
    ]
    cards = []
    for name in inputs.study.compressed:
        pie = inputs.pie_of(name) or {}
        pages = len(inputs.galleries.get(name, []))
        text = (
            f"<strong>{escape(name)}</strong>: {count(pie.get('pies'))} PIEs "
            f"({pct(pie.get('pie_fraction'))} % of the test set); gallery page 1 of {pages}. On its PIEs the "
            f"dense population's top-1 is {pct(pie.get('dense_top1_pie'), 1)} %, the compressed one's "
            f"{pct(pie.get('compressed_top1_pie'), 1)} %."
        )
        if finite(pie.get("pies")) == 0:
            parts.append(f'<p class="note"><strong>{escape(name)}</strong>: no PIEs.</p>')
        else:
            cards.append(figure(images.get(f"gallery:{name}"), f"PIE gallery of {name}", text))
    return "\n".join([*parts, grid(cards)])


def overlap_section(images: Mapping[str, str]) -> str:
    return figure(
        images.get("pie_overlap"),
        "Jaccard index of the PIE sets",
        "Overlap of the PIE sets of every pair of compressed configs: Jaccard index, the number of test "
        "examples that are PIEs of both over the number that are PIEs of either (1: the same examples are "
        "forgotten; n/a: neither config has PIEs). Do pruning and quantization forget the same examples?",
    )


def traits_section(inputs: Inputs, images: Mapping[str, str]) -> str:
    fig = figure(
        images.get("pie_traits"),
        "PIE traits against the rest of the test set",
        "Per compressed config (rows), the mean of each trait over its PIEs (red) and over the rest of the "
        "test set (grey), all measured on the dense population's out-of-sample predictions: the share of "
        "examples that confident learning (cleanlab) flags as likely mislabelled; the dense members' vote "
        "agreement; atypicality, the distance to the class centroid in each dense member's penultimate "
        "representation (its classifier's input) in units of the class's median distance, averaged over "
        "the members (1: typical).",
    )
    headers = [("config", False), ("PIEs", True), ("label issues<br>PIEs / rest (%)", True)]
    headers += [("enrichment<br>[95% interval]", True), ("vote agreement<br>PIEs / rest", True)]
    headers += [("margin<br>PIEs / rest", True), ("atypicality<br>PIEs / rest", True)]
    rows = []
    for name in inputs.study.compressed:
        p = inputs.pie_of(name) or {}
        interval = f"[{number(p.get('enrichment_low'), 1)}, {number(p.get('enrichment_high'), 1)}]"
        rows.append(
            "<tr>"
            + cell(escape(name), numeric=False)
            + cell(count(p.get("pies")))
            + cell(f"{pct(p.get('label_issue_rate_pies'), 1)} / {pct(p.get('label_issue_rate_rest'), 1)}")
            + cell(f"{number(p.get('label_issue_enrichment'), 1)}× {interval}")
            + cell(f"{number(p.get('agreement_pies'))} / {number(p.get('agreement_rest'))}")
            + cell(f"{number(p.get('margin_pies'))} / {number(p.get('margin_rest'))}")
            + cell(f"{number(p.get('atypicality_pies'), 2)} / {number(p.get('atypicality_rest'), 2)}")
            + "</tr>"
        )
    caption = (
        "Enrichment: the label-issue rate among PIEs over that among the rest, with a bootstrap interval "
        "(examples resampled within each group). Set the params key <code>pie.gallery_order</code> to "
        "<code>mislabelled</code>, <code>atypical</code> or <code>uncertain</code> to order each gallery by "
        "that score; every PIE's traits are in its config's <code>pies.csv</code>."
    )
    return fig + "\n" + table(headers, rows, caption)


def certainty_section(inputs: Inputs) -> str:
    stats = inputs.stats
    change = level(stats.get("detect_change"), 100.0)
    headers = [("config", False), ("impacted classes<br>stable / fragile", True)]
    headers += [("detectable change (pp)<br>median / worst class", True)]
    headers += [(f"members for {change} pp<br>median / worst class", True)]
    headers += [
        ("PIE set under leave-one-out<br>Jaccard mean / min", True),
        ("PIEs in every<br>resample", True),
    ]
    rows = []
    for name in inputs.study.compressed:
        s, p = inputs.stats_of(name), inputs.pie_of(name) or {}
        fragile = finite(s.get("impacted_fragile_classes")) or 0
        rows.append(
            "<tr>"
            + cell(escape(name), numeric=False)
            + cell(
                f"{count(s.get('impacted_stable_classes'))} / {count(s.get('impacted_fragile_classes'))}",
                beyond=fragile > 0,
            )
            + cell(
                f"±{number(s.get('detectable_change_median'), 2, 100.0)} / "
                f"±{number(s.get('detectable_change_worst'), 2, 100.0)}"
            )
            + cell(f"{count(s.get('members_needed_median'))} / {count(s.get('members_needed_worst'))}")
            + cell(f"{number(p.get('pie_jaccard_loo_mean'))} / {number(p.get('pie_jaccard_loo_min'))}")
            + cell(f"{count(p.get('pies_stable'))} of {count(p.get('pies'))}")
            + "</tr>"
        )
    caption = (
        "What the per-class test could have seen, and what survives resampling, with "
        f"{count(stats.get('members'))} members per population. Detectable change: the recall change "
        "Welch's test at p ≤ "
        f"{level(stats.get('alpha'))} detects with power {level(stats.get('power'))}, from the observed "
        "per-member spread (noncentral t): a class not impacted is not impacted beyond ± that change. "
        f"Members for {change} pp: the population size at which that change becomes detectable (n/a: "
        "beyond 10,000). Stable / fragile: impacted classes still impacted in every leave-one-member-out "
        "resample (one seed dropped from both populations), and those that are not (shaded: a finding "
        "that does not survive). The PIE set's Jaccard index with each resample's, and the PIEs found in "
        "every resample (n/a with fewer than 3 members)."
    )
    return table(headers, rows, caption)


def saliency_section(inputs: Inputs, images: Mapping[str, str]) -> str:
    first = next((s for s in inputs.saliency.values() if s), {})
    parts = [
        f"<p>Saliency maps ({escape(str(first.get('method', 'n/a')))}) of every member on the same "
        f"{count(first.get('sample_size'))} seeded test images; each map is the absolute attribution, max "
        "over channels, scaled to [0, 1] per image. MAD: mean absolute difference between a compressed "
        "member's map and the dense member's map of the same seed; its floor is the same between dense "
        "members of different seeds. Spearman: rank correlation of the two maps (floor: between dense "
        "seeds). Each image shows a few of the sample's images, one per row: the image, the dense map, "
        "the compressed map and compressed minus dense.</p>"
    ]
    cards = []
    for name in inputs.study.compressed:
        s = inputs.saliency.get(name) or {}
        floor = s.get("noise_floor") or {}
        marked = " (beyond the floor)" if beyond_floor(s.get("mad"), floor.get("mad"), True) else ""
        text = (
            f"<strong>{escape(name)}</strong>: MAD {number(s.get('mad'))} against a floor of "
            f"{number(floor.get('mad'))}{marked}, {number(s.get('mad_over_floor'), 2)} × the floor; "
            f"Spearman {number(s.get('spearman'), 2)} (floor {number(floor.get('spearman'), 2)}); top-10% "
            f"pixel overlap {number(s.get('top_overlap'), 2)} (floor {number(floor.get('top_overlap'), 2)})."
        )
        note = s.get("note")
        if note:
            label = "<strong>Straight-through.</strong> " if s.get("straight_through") else ""
            text += f' <span class="note">{label}{escape(str(note))}</span>'
        cards.append(figure(images.get(f"saliency:{name}"), f"saliency examples of {name}", text))
    return "\n".join([*parts, grid(cards)])


def robustness_section(inputs: Inputs, images: Mapping[str, str]) -> str:
    dense = inputs.dense_robustness() or {}
    fig = figure(
        images.get("robustness"),
        "top-1 against corruption severity",
        "Top-1 accuracy of each config's population (member mean) on corrupted copies of "
        f"{count(dense.get('sample_size'))} seeded test images, against the severity of each corruption "
        "(0: the clean images); one panel per corruption, dense in black.",
    )
    rows = []
    for name in inputs.study.compressed:
        r = inputs.robustness.get(name) or {}
        hurt = ", ".join(
            f"{escape(str(h.get('corruption')))} ({number(h.get('ce'), 2)})" for h in r.get("hurt_most") or []
        )
        rows.append(
            "<tr>"
            + cell(escape(name), numeric=False)
            + cell(number(r.get("mce")))
            + cell(number(r.get("relative_mce")))
            + cell(pct(r.get("mean_top1")))
            + cell(pct(r.get("dense_mean_top1")))
            + cell(pct(r.get("mean_pie_rate")))
            + cell(hurt or "none", numeric=False)
            + "</tr>"
        )
    headers = [("config", False), ("mCE", True), ("relative mCE", True), ("corrupted top-1 (%)", True)]
    headers += [("dense (%)", True), ("PIE rate (%)", True), ("hurt most (CE)", False)]
    caption = (
        "CE: the compressed error over the dense error on a corruption, summed over severities (Hendrycks "
        "&amp; Dietterich 2019); mCE its mean over corruptions; relative mCE compares the degradation from "
        "the clean error. Top-1 and PIE rate: means over corruptions and severities."
    )
    return fig + "\n" + table(headers, rows, caption)


def cka_section(inputs: Inputs, images: Mapping[str, str]) -> str:
    first = next((s for s in inputs.representations.values() if s), {})
    return figure(
        images.get("cka"),
        "linear CKA per layer",
        "Linear CKA (Kornblith et al. 2019) between the activations of a compressed member and the dense "
        f"member of the same seed on {count(first.get('sample_size'))} seeded test images, mean over "
        f"members, per layer (activations flattened {escape(str(first.get('flatten', 'n/a')))}); 1 means "
        "the same representation up to rotation and scale. Dashed black: the floor, the same between "
        "dense members of different seeds; a config below it has moved further from dense than another "
        "seed does.",
    )


def activation_section(inputs: Inputs, images: Mapping[str, str]) -> str:
    parts = [
        "<p>Activation maximization: for a few units of the last convolutional layer, an image grown by "
        "gradient ascent from seeded noise to excite the unit, on a dense member (top row) and on the "
        "compressed member of the same seed (bottom row); titles give the unit's final activation.</p>"
    ]
    cards = []
    for name in inputs.study.compressed:
        act = (inputs.representations.get(name) or {}).get("activation_max") or {}
        units = ", ".join(map(str, act.get("units") or [])) or "n/a"
        text = (
            f"<strong>{escape(name)}</strong>: layer <code>{escape(str(act.get('layer', 'n/a')))}</code>, "
            f"units {escape(units)}, seed {escape(str(act.get('seed', 'n/a')))}."
        )
        cards.append(figure(images.get(f"activation_max:{name}"), f"activation maximization of {name}", text))
    return "\n".join([*parts, grid(cards)])
