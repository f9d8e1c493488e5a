"""Reading an index result: the ranked table, contributions per area, explanations, status × dynamics.

The robustness analysis itself is computed with the index (:func:`quartier.need.scoring.robustness`); here
its rank ranges and class dependencies are laid out per Sozialraum.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from quartier.access import Actor
from quartier.need.compute import ROUND, IndexResult
from quartier.values import indicators


def ranking_table(result: IndexResult, previous: IndexResult | None = None) -> pd.DataFrame:
    """The ranked table: one row per Sozialraum in the order of the JSON output.

    Columns: id, name, value, class, rank, rank_change (positive = moved up towards rank 1 against the
    previous year), dynamics_value, dynamics_class, one column per indicator contribution (``c_<id>``),
    rank ranges from the robustness analysis, flags (joined with "; ")."""
    # Column-wise construction of what ``result.to_json()`` lists per Sozialraum (same order, same rounding
    # with ``_r``): at 10,000 areas x 60 indicators the per-row dictionaries took seconds.
    m = result.method
    n = len(result.areas)
    order = np.lexsort((np.arange(n), np.where(np.isnan(result.rank), np.inf, result.rank)))
    rated = result.klass[order] >= 0
    dyn_ok = result.dyn_klass[order] >= 0

    def rounded(values, ok) -> list:
        return [(0.0 if (x := round(v, ROUND)) == 0 else x) if (k and v == v) else None
                for v, k in zip(np.asarray(values, dtype=float).tolist(), ok.tolist())]

    ids = result.areas["id"].to_numpy(dtype=object)[order].tolist()
    rank = [int(r) if k else None for r, k in zip(result.rank[order].tolist(), rated.tolist())]
    prev_rank = {}
    if previous is not None:
        prev_rank = {a: (int(r) if k >= 0 else None) for a, r, k in
                     zip(previous.areas["id"].tolist(), previous.rank.tolist(), previous.klass.tolist())}
    prev = [prev_rank.get(a) for a in ids]
    cols: dict = {
        "id": ids, "name": result.areas["name"].to_numpy(dtype=object)[order].tolist(),
        "value": rounded(result.value[order], rated),
        "class": [m.classes[c] if k else None for c, k in zip(result.klass[order].tolist(), rated.tolist())],
        "rank": rank, "dynamics_value": rounded(result.dyn_value[order], dyn_ok),
        "dynamics_class": [m.dynamics_classes[c] if k else None
                           for c, k in zip(result.dyn_klass[order].tolist(), dyn_ok.tolist())],
        "rank_previous": prev,
        "rank_change": [(p - r) if (p is not None and r is not None) else None for p, r in zip(prev, rank)],
    }
    for j, iid in enumerate(result.indicator_ids):
        cols[f"c_{iid}"] = rounded(result.contributions[order, j], rated)
    rb = result.robust
    has = rated & (rb is not None)
    for key, src in (("rank_loo_min", "loo_min"), ("rank_loo_max", "loo_max"), ("rank_weights_min", "weight_min"),
                     ("rank_weights_max", "weight_max")):
        vals = np.asarray(rb[src])[order].tolist() if rb is not None else [None] * n
        cols[key] = [int(v) if k else None for v, k in zip(vals, has.tolist())]
    if rb is not None:
        changes = np.asarray(rb["class_changes"])[order]
        cols["class_depends_on"] = [[result.indicator_ids[j] for j in np.flatnonzero(changes[i])] if has[i] else []
                                    for i in range(n)]
    else:
        cols["class_depends_on"] = [[] for _ in range(n)]
    cols["flags"] = ["; ".join(result.flags[i]) for i in order.tolist()]
    if not n:
        return pd.DataFrame()
    df = pd.DataFrame(cols)
    for col in ("rank", "rank_previous", "rank_change", "rank_loo_min", "rank_loo_max", "rank_weights_min", "rank_weights_max"):
        if col in df:
            df[col] = df[col].astype("Int64")
    return df


def indicator_labels(catalogue: pd.DataFrame, ids: list[str]) -> dict[str, str]:
    cat = catalogue.set_index("id")
    return {i: (cat.loc[i, "kurzname"] if i in cat.index and isinstance(cat.loc[i, "kurzname"], str) else i) for i in ids}


URGENT, WATCH, CALM = "dringend", "beobachten", "ohne Hinweis"


def attention(status_index: int, dyn_index: int, n_status: int, n_dyn: int) -> str:
    """How much a cell of the status × dynamics matrix needs attention, from its distance to the worst corner
    (highest status class, worst dynamics class): 0–1 steps ``dringend``, 2 steps ``beobachten``, else none.
    With the default classes: "sehr hoch" with worsening or stable, "hoch" with worsening are dringend."""
    steps = (n_status - 1 - status_index) + (n_dyn - 1 - dyn_index)
    return URGENT if steps <= 1 else (WATCH if steps == 2 else CALM)


def status_dynamics_matrix(result: IndexResult) -> pd.DataFrame:
    """Rows: status classes (most need first); columns: dynamics classes; cells: count and names."""
    m = result.method
    rows = []
    for ci in range(len(m.classes) - 1, -1, -1):
        row = {"Status": m.classes[ci]}
        for di in range(len(m.dynamics_classes) - 1, -1, -1):
            sel = (result.klass == ci) & (result.dyn_klass == di)
            names = list(result.areas["name"][sel])
            row[m.dynamics_classes[di]] = f"{len(names)}" + (f": {', '.join(names)}" if names else "")
        sel = (result.klass == ci) & (result.dyn_klass < 0)
        if sel.any():
            row["Dynamik nicht bewertbar"] = f"{int(sel.sum())}: " + ", ".join(result.areas["name"][sel])
        rows.append(row)
    df = pd.DataFrame(rows)
    if "Dynamik nicht bewertbar" in df:
        df["Dynamik nicht bewertbar"] = df["Dynamik nicht bewertbar"].fillna("0")
    return df


def status_dynamics_counts(result: IndexResult) -> pd.DataFrame:
    """Long form (status, dynamics, count) for a heatmap."""
    m = result.method
    out = []
    for ci, cname in enumerate(m.classes):
        for di, dname in enumerate(m.dynamics_classes):
            sel = (result.klass == ci) & (result.dyn_klass == di)
            out.append({"Status": cname, "Dynamik": dname, "Anzahl": int(sel.sum()),
                        "Sozialräume": ", ".join(result.areas["name"][sel]),
                        "Aufmerksamkeit": attention(ci, di, len(m.classes), len(m.dynamics_classes))})
    return pd.DataFrame(out)


def explain(result: IndexResult, area_id: str, catalogue: pd.DataFrame) -> str:
    """A plain German explanation of one area's value."""
    from quartier.format import number

    i = int(np.flatnonzero(result.areas["id"] == area_id)[0])
    name = result.areas["name"].iat[i]
    m = result.method
    if result.klass[i] < 0:
        why = "; ".join(result.flags[i]) or "keine Werte"
        return f"{name} hat keinen Indexwert ({why})."
    labels = indicator_labels(catalogue, result.indicator_ids)
    n_rated = int((result.klass >= 0).sum())
    c = result.contributions[i]
    order = np.argsort(-np.nan_to_num(c))
    ups = [j for j in order if c[j] > 0.005]
    downs = [j for j in order[::-1] if c[j] < -0.005]
    scale = "Standardabweichungen" if m.kind == "zscore" else "Punkte"
    text = (
        f"{name} hat den Indexwert {number(result.value[i], 2)} (Klasse „{m.classes[result.klass[i]]}“, "
        f"Rang {int(result.rank[i])} von {n_rated}; Rang 1 = höchster Handlungsbedarf)."
    )
    if m.kind == "zscore":
        text += " 0 ist der Durchschnitt der bewerteten Sozialräume, der Wert ist in " + scale + " gemessen."
    if ups:
        text += " Den Wert erhöhen vor allem: " + ", ".join(f"{labels[result.indicator_ids[j]]} ({_signed(c[j])})" for j in ups[:3]) + "."
    if downs:
        text += " Den Wert senken: " + ", ".join(f"{labels[result.indicator_ids[j]]} ({_signed(c[j])})" for j in downs[:3]) + "."
    miss = [labels[result.indicator_ids[j]] for j in np.flatnonzero(np.isnan(result.rates[i]))]
    if miss:
        text += f" Ohne Wert (Gewicht auf die übrigen Indikatoren verteilt): {', '.join(miss)}."
    return text


def _signed(v: float) -> str:
    from quartier.format import number

    return ("+" if v > 0 else "−") + number(abs(v), 2)


def protected_cells(con, result: IndexResult, *, actor: Actor) -> set[tuple[str, str]]:
    """(sozialraum_id, indikator_id) whose raw value ``actor`` may not see (small-number protection).

    For a result computed for a viewer (:attr:`IndexResult.public`) these cells counted as missing: they
    have no rate, score or contribution."""
    if actor.can_see_raw:
        return set()
    if result.public:
        return result.hidden_cells
    v = indicators.current_values(con, result.indicator_ids, [result.year], actor=actor)
    v = v[v["gesperrt"].astype(bool)]
    return set(zip(v["sozialraum_id"], v["indikator_id"]))


def contributions_frame(result: IndexResult, area_id: str, catalogue: pd.DataFrame,
                        hidden: set[tuple[str, str]] | None = None) -> pd.DataFrame:
    """Per indicator for one area: label, rate, direction, score, weight, contribution; ``gesperrt`` marks
    cells in ``hidden`` (their rate and score are left empty)."""
    i = int(np.flatnonzero(result.areas["id"] == area_id)[0])
    labels = indicator_labels(catalogue, result.indicator_ids)
    units = dict(zip(catalogue["id"], catalogue["einheit"]))
    hidden = hidden or set()
    rows = []
    for j, ind in enumerate(result.method.indicators):
        secret = (area_id, ind.id) in hidden
        rows.append({
            "id": ind.id, "Indikator": labels[ind.id], "Einheit": units.get(ind.id),
            "Wert": np.nan if secret else result.rates[i, j],
            "Richtung": "höher = mehr Bedarf" if ind.direction == "higher" else "niedriger = mehr Bedarf",
            "Gewicht": ind.weight,
            "Punktwert" if result.method.kind == "points" else "z-Wert": np.nan if secret else result.scores[i, j],
            "Beitrag": result.contributions[i, j], "gesperrt": secret,
        })
    return pd.DataFrame(rows)


def display_table(table: pd.DataFrame, result: IndexResult, catalogue: pd.DataFrame) -> pd.DataFrame:
    """The ranking table (:func:`ranking_table`) with German headers and German number texts for the page."""
    from quartier.format import NOTHING, number

    labels = indicator_labels(catalogue, result.indicator_ids)

    def num(v, d=2):
        return NOTHING if v is None or pd.isna(v) else number(v, d)

    def change(v):
        if v is None or pd.isna(v):
            return NOTHING
        return f"▲ +{int(v)}" if v > 0 else (f"▼ −{abs(int(v))}" if v < 0 else "± 0")

    out = pd.DataFrame({
        "Rang": table["rank"],
        "Sozialraum": table["name"] + " (" + table["id"] + ")",
        "Indexwert": [num(v) for v in table["value"]],
        "Klasse": table["class"].fillna(NOTHING),
        "Rang ggü. Vorjahr": [change(v) for v in table["rank_change"]],
        "Dynamik": table["dynamics_class"].fillna(NOTHING),
    })
    for iid in result.indicator_ids:
        out[labels[iid]] = [num(v) for v in table[f"c_{iid}"]]
    out["Hinweise"] = table["flags"]
    return out


def mark_reallocated(display: pd.DataFrame, table: pd.DataFrame, result: IndexResult, catalogue: pd.DataFrame,
                     marks: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The ranking table for the page (:func:`display_table`) with a "*" after every indicator contribution that
    rests on a value re-allocated from an earlier Gebietsstand in the index year (Issue 19) and a column
    "Umrechnung" with its method; ``marks`` from :func:`quartier.values.query.reallocated`. Also returns the methods."""
    from quartier.values.charts import UMR_MARK

    m = marks[(marks["jahr"].astype(int) == int(result.year)) & marks["indikator_id"].isin(result.indicator_ids)]
    if m.empty:
        return display, []
    labels = indicator_labels(catalogue, result.indicator_ids)
    out = display.copy()
    per_area: dict[str, set[str]] = {}
    for iid, part in m.groupby("indikator_id"):
        hit = table["id"].isin(set(part["sozialraum_id"])).to_numpy()
        out.loc[hit, labels[iid]] = out.loc[hit, labels[iid]].astype(str) + f" {UMR_MARK}"
        for sid, method in zip(part["sozialraum_id"], part["umgerechnet"]):
            per_area.setdefault(sid, set()).add(method)
    marked = table["id"].isin(set(per_area)).to_numpy()
    out.loc[marked, "Indexwert"] = out.loc[marked, "Indexwert"].astype(str) + f" {UMR_MARK}"
    out.insert(out.columns.get_loc("Indexwert") + 1, "Umrechnung",
               ["; ".join(sorted(per_area.get(i, ()))) for i in table["id"]])
    return out, sorted(set(m["umgerechnet"]))
