"""The dashboard's pages as the navigation lists them. Which role sees which page is decided in
one place, `access.CAPABILITIES`; this list only says how each page is titled and reached."""

from __future__ import annotations

# page (file stem in pages/), title, icon (Material Symbols name), url path; in this order
PAGES = [
    ("overview", "Overview", "dashboard", "overview"),
    ("my_work", "My work", "pending_actions", "my-work"),
    ("referral_sources", "Referral sources", "call_received", "referral-sources"),
    ("offending_areas", "Offending areas", "location_on", "offending-areas"),
    ("officer_caseloads", "Officer caseloads", "badge", "officer-caseloads"),
    ("journey_flow", "Journey flow", "account_tree", "journey-flow"),
    ("outcomes", "Outcomes", "trending_down", "outcomes"),
    ("cost_savings", "Cost savings", "currency_pound", "cost-savings"),
    ("referral_list", "Referrals", "list_alt", "referrals"),
    ("quarterly_pack", "Quarterly pack", "summarize", "quarterly-pack"),
    ("data", "Data", "upload_file", "data"),
    ("access_log", "Access log", "policy", "access-log"),
    ("users", "Users", "group", "users"),
    ("methodology", "Methodology", "menu_book", "methodology"),
]
