"""Figures of the analysis (matplotlib, Agg), each written atomically as PNG.

- summary.png: the first-screen figure. Baselines: per-task drop per +0.1 syntactic distance (Theil-Sen slope, 95%
  interval) for the primary model, parallel test sets in colour, others grey, the pooled mixed-model estimate as a
  diamond. With intermediate-task runs: the pooled slope of the effect per intermediate task.
- scatter_<experiment>.png: the dependent variable against each predictor in a 2-row grid, language labels, the
  Theil-Sen line (the fit that goes with a rank statistic), rho and n in each title.
- heatmap_rho_<model>_<intermediate>_<dv>.png: rho over tasks x predictors; each cell says rho and n, a star marks
  p < 0.05 (permutation, unadjusted), and cells with n < 8 are hatched and faded so n = 6 does not look like n = 14.
- distance_collinearity.png: Spearman rho between the predictors over the languages analysed.
"""
from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import numpy as np
from scipy import stats

from analysis.design import PREDICTORS, PRIMARY
from analysis.scores import EXPERIMENT, dependent_variables, display
from analysis.stats import MIN_N, MIN_N_CI
from common.io import atomic_write_bytes


def _slug(*parts) -> str:
    """A file-name-safe label; long names are cut and disambiguated by a short hash."""
    words = []
    for p in parts:
        w = re.sub(r"[^A-Za-z0-9]+", "-", str(p)).strip("-").lower()
        if len(w) > 24:
            w = f"{w[:16]}-{hashlib.sha1(str(p).encode()).hexdigest()[:6]}"
        words.append(w)
    return "_".join(words)


def _save(fig, path: Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    atomic_write_bytes(path, buf.getvalue())


def summary_figure(plt, out: Path, ctx) -> str:
    corr, primary, after = ctx["corr"], ctx["primary"], ctx["after"]
    model = ctx["primary_model"]
    if len(after) and after["coef_per_0.1"].notna().any():
        a = after[after["coef_per_0.1"].notna()]
        labels = [f"{r.model} | {r.intermediate_task}" for r in a.itertuples()]
        est, lo, hi = (a[c].to_numpy(float) for c in ("coef_per_0.1", "ci_low_per_0.1", "ci_high_per_0.1"))
        colors = ["C0"] * len(a)
        title = "After intermediate training: change of the drop per +0.1 syntactic distance (95% CI)"
        xlabel = "drop change, points per +0.1 distance (size held fixed; < 0: far languages gain more)"
    else:
        g = corr[(corr["model"] == model) & (corr["intermediate_task"] == "none") & (corr["dv"] == PRIMARY["dv"])
                 & (corr["predictor"] == PRIMARY["distance"]) & corr["spearman_rho"].notna()]
        labels = [f"{display(r.target_task)} (n={int(r.n)})" for r in g.itertuples()]
        est, lo, hi = (g[c].to_numpy(float) for c in ("theil_sen_per_0.1", "theil_sen_low_per_0.1",
                                                      "theil_sen_high_per_0.1"))
        colors = ["C0" if p else "0.6" for p in g["parallel_test"]]
        if primary.get("coef_per_0.1") is not None and np.isfinite(primary.get("coef_per_0.1", np.nan)):
            labels.append(f"pooled, parallel (languages={primary['n_langs']})")
            est = np.append(est, primary["coef_per_0.1"])
            lo = np.append(lo, primary["ci_low_per_0.1"])
            hi = np.append(hi, primary["ci_high_per_0.1"])
            colors.append("C3")
        title = f"{model}: zero-shot drop per +0.1 syntactic distance (95% CI)"
        xlabel = "drop, points per +0.1 syntactic distance (Theil-Sen per task; mixed model pooled)"
    fig, ax = plt.subplots(figsize=(7.5, max(0.45 * len(labels) + 1.8, 3.0)))
    ys = np.arange(len(labels))[::-1]
    finite = np.abs(est[np.isfinite(est)])
    lim = 2.5 * (finite.max() if len(finite) else 1.0) + 1.0  # intervals of n = 5 tasks span +-100: clip, mark
    clipped = False
    for y, e, l, h, c, lab in zip(ys, est, lo, hi, colors, labels):
        l, h = (e, e) if not (np.isfinite(l) and np.isfinite(h)) else (l, h)
        ax.plot([max(l, -lim), min(h, lim)], [y, y], color=c, lw=2)
        for end, side in ((l, -1), (h, 1)):
            if side * end > lim:
                clipped = True
                ax.plot([side * lim], [y], marker=">" if side > 0 else "<", color=c, ms=6)
        ax.plot([e], [y], marker="D" if lab.startswith("pooled") else "o", color=c, ms=7)
    ax.set_xlim(-lim * 1.05, lim * 1.05)
    ax.axvline(0, color="k", lw=0.8, ls="--")
    ax.set_yticks(ys, labels, fontsize=9)
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_title(title + ("\ngrey: non-parallel test sets (difficulty differs by language)"
                          if "0.6" in colors else "") + ("; arrows: the interval continues" if clipped else ""),
                 fontsize=9)
    fig.subplots_adjust(left=0.3, right=0.97, bottom=0.18, top=0.82)
    _save(fig, out / "summary.png")
    plt.close(fig)
    return "summary.png"


def scatter_grid(plt, out: Path, key, g, dist_i, corr, predictors) -> str:
    dv = "effect" if g["effect"].notna().any() else dependent_variables(g)[0]
    ncols = (len(predictors) + 1) // 2
    fig, axes = plt.subplots(2, ncols, figsize=(3.2 * ncols, 6.4), sharey=True)
    rows = corr[(corr[EXPERIMENT].apply(tuple, axis=1) == key) & (corr["dv"] == dv)].set_index("predictor")
    for ax, d in zip(axes.flat, predictors):
        x = dist_i.loc[g["lang"], d].to_numpy(float)
        y = g[dv].to_numpy(float)
        ok = ~np.isnan(x) & ~np.isnan(y)
        ax.scatter(x[ok], y[ok], s=16)
        for xi, yi, lang in zip(x[ok], y[ok], g["lang"].to_numpy()[ok]):
            ax.annotate(lang, (xi, yi), fontsize=8, xytext=(2, 2), textcoords="offset points")
        if ok.sum() >= 2 and np.ptp(x[ok]) > 0:
            ts = stats.theilslopes(y[ok], x[ok])
            xs = np.linspace(x[ok].min(), x[ok].max(), 2)
            ax.plot(xs, ts.intercept + ts.slope * xs, color="C3", lw=1.2)
        r = rows["spearman_rho"].get(d, np.nan) if len(rows) else np.nan
        ax.set_title(f"{d}: rho={r:.2f}, n={int(ok.sum())}" if np.isfinite(r) else f"{d}: n={int(ok.sum())}",
                     fontsize=9)
        ax.set_xlabel(f"{d} (from en)", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.locator_params(nbins=4)
    for ax in axes.flat[len(predictors):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel(dv, fontsize=9)
    fig.suptitle(" | ".join(str(k) for k in key) + "  (line: Theil-Sen)", fontsize=10)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.09, top=0.9, wspace=0.1, hspace=0.45)
    name = f"scatter_{_slug(*key)}.png"
    _save(fig, out / name)
    plt.close(fig)
    return name


def heatmap(plt, out: Path, model, inter, dv, g, predictors) -> str | None:
    g = g.assign(row=[f"{display(t)}/{s}" for t, s in zip(g["target_task"], g["split"])])
    rho = g.pivot_table(index="row", columns="predictor", values="spearman_rho", dropna=False).reindex(
        columns=list(predictors))
    if rho.notna().sum().sum() == 0:
        return None
    n = g.pivot_table(index="row", columns="predictor", values="n", dropna=False).reindex_like(rho)
    p = g.pivot_table(index="row", columns="predictor", values="p_spearman", dropna=False).reindex_like(rho)
    fig, ax = plt.subplots(figsize=(1.2 * len(predictors) + 3, 0.6 * len(rho) + 2.4))
    im = ax.imshow(rho.to_numpy(float), cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    for (i, j), v in np.ndenumerate(rho.to_numpy(float)):
        k = n.iloc[i, j]
        small = not np.isfinite(k) or k < MIN_N_CI
        if small:
            ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="white", alpha=0.55, hatch="//",
                                       edgecolor="0.6", lw=0))
        star = "*" if np.isfinite(p.iloc[i, j]) and p.iloc[i, j] < 0.05 else ""
        text = f"n={int(k) if np.isfinite(k) else 0}" if np.isnan(v) else f"{v:.2f}{star}\nn={int(k)}"
        ax.text(j, i, text, ha="center", va="center", fontsize=7,
                color="white" if abs(np.nan_to_num(v)) > 0.6 and not small else "black")
    ax.set_xticks(range(len(rho.columns)), rho.columns, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(rho.index)), rho.index, fontsize=8)
    fig.colorbar(im, ax=ax, label="Spearman rho")
    ax.set_title(f"{model} | {inter} | {dv}\n* p < 0.05 (permutation, unadjusted); hatched: n < {MIN_N_CI}", fontsize=9)
    fig.subplots_adjust(left=0.28, right=0.97, bottom=0.25, top=0.86)
    name = f"heatmap_rho_{_slug(model, inter, dv)}.png"
    _save(fig, out / name)
    plt.close(fig)
    return name


def residual_figure(plt, out: Path, ctx) -> str | None:
    """Per-language mean residual of the primary model (random intercept included) against the primary distance."""
    res = ctx.get("diagnostics", {}).get("residuals")
    if res is None or not len(res):
        return None
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.axhline(0, color="k", lw=0.8, ls="--")
    ax.scatter(res["distance"], res["residual"], s=12 + 10 * res["tasks"], color="C0")
    for r in res.itertuples():
        ax.annotate(r.lang, (r.distance, r.residual), textcoords="offset points", xytext=(4, 3), fontsize=8)
    ax.set_xlabel(f"{PRIMARY['distance']} distance from English")
    ax.set_ylabel(f"mean residual of {PRIMARY['dv']}, points")
    ax.set_title(f"{ctx['primary_model']}: primary model residuals per language\n(dv ~ C(task) + distance + "
                 "(1 | language); marker size: tasks)", fontsize=9)
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.13, top=0.88)
    _save(fig, out / "primary_residuals.png")
    plt.close(fig)
    return "primary_residuals.png"


def write_plots(out: Path, ctx) -> list[str]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drops, corr, dist = ctx["drops"], ctx["corr"], ctx["dist"]
    written = [summary_figure(plt, out, ctx)]
    if name := residual_figure(plt, out, ctx):
        written.append(name)
    dist_i = dist.set_index("lang")
    for key, g in drops.groupby(EXPERIMENT, sort=False):
        if len(g) >= MIN_N:
            written.append(scatter_grid(plt, out, key, g, dist_i, corr, PREDICTORS))
    for (model, inter, dv), g in corr.groupby(["model", "intermediate_task", "dv"], sort=False):
        name = heatmap(plt, out, model, inter, dv, g, PREDICTORS)
        if name:
            written.append(name)
    col = ctx["collinearity"]
    fig, ax = plt.subplots(figsize=(6, 5))
    im = ax.imshow(col.to_numpy(float), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(col)), col.columns, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(col)), col.index, fontsize=8)
    for (i, j), v in np.ndenumerate(col.to_numpy(float)):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7, color="white" if abs(v) > 0.6 else "black")
    fig.colorbar(im, ax=ax, label="Spearman rho")
    ax.set_title("Predictor collinearity (languages analysed, excl. en)", fontsize=9)
    fig.subplots_adjust(left=0.22, right=0.92, bottom=0.22, top=0.93)
    _save(fig, out / "distance_collinearity.png")
    plt.close(fig)
    written.append("distance_collinearity.png")
    return written
