"""Chart builders: each takes a small frame and returns a chart spec; no Streamlit here."""

from __future__ import annotations

import altair as alt
import pandas as pd

# Okabe-Ito: distinguishable with the common forms of colour blindness.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
             "#000000"]
STATUS_ORDER = ["Referral/Waiting", "Active", "Inactive", "Withdrawn", "Not recorded"]


def caseload_by_officer(frame: pd.DataFrame) -> alt.Chart:
    """Stacked bars: each officer's referrals split by current status."""
    statuses = [s for s in STATUS_ORDER if s in set(frame["status"])]
    base = alt.Chart(frame).encode(
        alt.X("officer:N").title("Officer").sort("-y"),
        alt.Y("sum(referrals):Q").title("Referrals"),
    )
    bars = base.mark_bar().encode(
        alt.Color("status:N").title("Status").sort(statuses)
        .scale(domain=statuses, range=OKABE_ITO[:len(statuses)]),
        alt.Order("status_rank:Q"),
        tooltip=[alt.Tooltip("officer:N", title="Officer"),
                 alt.Tooltip("status:N", title="Status"),
                 alt.Tooltip("referrals:Q", title="Referrals", format=",")],
    ).transform_calculate(status_rank=f"indexof({statuses!r}, datum.status)")
    totals = base.mark_text(dy=-8, fontWeight="bold").encode(text=alt.Text("sum(referrals):Q"))
    return (bars + totals).properties(
        title="Referrals by officer and current status", height=360)


def caseload_over_time(frame: pd.DataFrame) -> alt.Chart:
    """Lines: each officer's active caseload at each snapshot's as-at date."""
    return alt.Chart(frame).mark_line(point=True).encode(
        alt.X("as_at_date:T").title("Snapshot as at").axis(format="%d/%m/%Y"),
        alt.Y("referrals:Q").title("Referrals (all statuses)"),
        alt.Color("officer:N").title("Officer").scale(range=OKABE_ITO),
        tooltip=[alt.Tooltip("as_at_date:T", title="As at", format="%d/%m/%Y"),
                 alt.Tooltip("officer:N", title="Officer"),
                 alt.Tooltip("referrals:Q", title="Referrals")],
    ).properties(title="Caseload per officer at each snapshot", height=300)


def placements_by_facility(frame: pd.DataFrame) -> alt.Chart:
    """Bars: rehab admissions by facility, with direct counts."""
    base = alt.Chart(frame).encode(
        alt.Y("rehab_facility:N").title("Rehab facility").sort("-x"),
        alt.X("referrals:Q").title("Admissions"),
    )
    return (base.mark_bar(color=OKABE_ITO[0]).encode(
        tooltip=[alt.Tooltip("rehab_facility:N", title="Facility"),
                 alt.Tooltip("referrals:Q", title="Admissions")])
        + base.mark_text(align="left", dx=4).encode(text="referrals:Q")
    ).properties(title="Rehab placements by facility", height=160)


def journey_sankey(flow: pd.DataFrame) -> dict:
    """An ECharts Sankey option for the journey; every node is labelled with its count."""
    # Withdrawn and Deceased appear at two stages; a node is a name at a depth, and the
    # deeper copy gets invisible zero-width spaces so ECharts keeps the two apart.
    depth = {"Referrals": 0}
    ids = {("Referrals", 0): "Referrals"}
    totals = {"Referrals": int(flow.loc[flow["source"] == "Referrals", "referrals"].sum())}
    links = []
    for row in flow.itertuples(index=False):
        source = next(ids[key] for key in ids if key[0] == row.source)
        level = depth[source] + 1
        target = ids.setdefault((row.target, level), row.target + "\u200b" * sum(
            1 for name, _ in ids if name == row.target))
        depth[target] = level
        totals[target] = totals.get(target, 0) + int(row.referrals)
        links.append({"source": source, "target": target, "value": int(row.referrals)})
    nodes = [{"name": node, "depth": level,
              "label": {"formatter": f"{node.rstrip(chr(0x200B))} ({totals[node]})"}}
             for node, level in depth.items()]
    return {
        "tooltip": {"trigger": "item"},
        "color": OKABE_ITO,
        "series": [{
            "type": "sankey", "data": nodes, "links": links, "nodeAlign": "left",
            "emphasis": {"focus": "adjacency"},
            "lineStyle": {"color": "gradient", "opacity": 0.35},
            "label": {"fontSize": 13}, "left": 10, "right": 220, "top": 20, "bottom": 20,
        }],
    }
