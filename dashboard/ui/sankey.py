"""The journey as an ECharts Sankey diagram (Altair draws no Sankey): a plain function of a
small frame, like the Altair builders in charts.py."""

from __future__ import annotations

import pandas as pd

from dashboard.ui.charts import GREY

# Amber is for waiting (not there yet); leaving rehab early is vermillion, so the two never
# read as one on the same flow.
NODE_COLOURS = {
    "Referrals": "#0072B2", "Being worked with": "#3A88C0", "Inactive/withdrawn": GREY,
    "Not interested": GREY, "Did not meet criteria": GREY, "Withdrawn": GREY,
    "Deceased": "#000000", "Diverted to other services": "#B0508A", "Partner agency": "#B0508A",
    "Prison": "#B0508A", "Residential rehab": "#007A5A", "In rehab": "#007A5A",
    "Completed 12 weeks": "#005C44", "Discharged early": "#D55E00",
    "Ongoing engagement": "#3A88C0", "Preparing for rehab": "#3A88C0",
    "Contacted": "#0072B2", "Assessed": "#0072B2", "Entered rehab": "#007A5A",
    "Waiting for contact": "#9E6A00", "Waiting for assessment": "#9E6A00",
    "Not yet in rehab": "#9E6A00", "Closed before contact": GREY,
    "Closed before assessment": GREY, "Closed before rehab": GREY,
    "Still in rehab": "#007A5A", "Left rehab early": "#D55E00",
}


def journey_sankey(flow: pd.DataFrame, labels: dict[str, str] | None = None) -> dict:
    """An ECharts Sankey option for the journey; every node is labelled with its count, and
    with what that count is where `labels` says (e.g. the root "Referrals" of the flow from
    assessment is "Assessed in the period")."""
    labels = labels or {}
    # Withdrawn and Deceased appear at two stages; a node is a name at a depth, and the
    # deeper copy gets invisible zero-width spaces so ECharts keeps the two apart.
    depth = {"Referrals": 0}
    order = {"Referrals": (0,)}
    ids = {("Referrals", 0): "Referrals"}
    totals: dict[str, int] = {
        "Referrals": int(flow.loc[flow["source"] == "Referrals", "referrals"].sum())}
    links = []
    # A node the journey goes on from sits above the ones it stops at in its column, so the
    # next column's nodes (stacked from the top) sit beside it: a stopping node's label then
    # has nothing beside it to overlap.
    goes_on = set(flow["source"])
    for position, row in enumerate(flow.itertuples(index=False)):
        source = next(ids[key] for key in ids if key[0] == row.source)
        level = depth[source] + 1
        target = ids.setdefault((row.target, level), row.target + "\u200b" * sum(
            1 for name, _ in ids if name == row.target))
        depth[target] = level
        # Children sit in their parents' order, so the bands do not cross.
        order.setdefault(target, (*order[source], row.target not in goes_on, position))
        totals[target] = totals.get(target, 0) + int(row.referrals)
        links.append({"source": source, "target": target, "value": int(row.referrals)})
    nodes = [{"name": node, "depth": depth[node],
              "itemStyle": {"color": NODE_COLOURS.get(node.rstrip("\u200b"), GREY)},
              "label": {"formatter": f"{labels.get(name, name)} ({totals[node]:,})"}}
             for node in sorted(depth, key=lambda n: (depth[n], order[n]))
             for name in [node.rstrip("\u200b")]]
    return {
        "tooltip": {"trigger": "item"},
        "series": [{
            "type": "sankey", "data": nodes, "links": links, "nodeAlign": "left",
            "layoutIterations": 0, "nodeGap": 14,
            "emphasis": {"focus": "adjacency"},
            "lineStyle": {"color": "gradient", "opacity": 0.35},
            "label": {"fontSize": 13, "color": "#31333F"},
            "left": 10, "right": 220, "top": 20, "bottom": 20,
        }],
    }
