"""The data contract: the columns of each export, their aliases, vocabularies and checks."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

# Variation selectors only choose how a character is drawn (text or emoji style): ignored.
_VARIATION_SELECTORS = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF))


def _kept_in_key(char: str) -> bool:
    # Letters, combining marks (part of the letter in Arabic, Indic and other scripts) and
    # digits of every script, and pictographic symbols such as emoji: "Officer 1 😈" is
    # someone other than "Officer 1". Spaces, punctuation and other symbols are ignored.
    category = unicodedata.category(char)
    if category[0] not in "LMN" and category != "So":
        return False
    code = ord(char)
    return not any(low <= code <= high for low, high in _VARIATION_SELECTORS)


def header_key(text: object) -> str:
    """The matching key of a header or category value: the one rule, in Python and SQL.

    Unicode NFKC (full-width and compatibility forms become ordinary ones), case-folded, and
    only letters, marks, digits and pictographic symbols kept, so "OFFICER 1 " is "Officer 1"
    and "Ｏｆｆｉｃｅｒ １" is too, while "Officer 1 😈" and names in any script stay distinct.
    SQL reaches this same function as norm_key (dashboard/store/sql.py).
    """
    text = str(text)
    if text.isascii():  # NFKC leaves ASCII as it is and folding lowers it: the same key, faster
        return _NOT_ASCII_KEPT.sub("", text.lower())
    return unicode_key(text)


# The characters of ASCII that _kept_in_key keeps (tests/test_ingest_text.py checks it).
_NOT_ASCII_KEPT = re.compile("[^0-9a-z]")


def unicode_key(text: str) -> str:
    """header_key for any text, a character at a time."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return "".join(char for char in folded if _kept_in_key(char))


def names_nothing(text: object) -> bool:
    """True if the value has no letter or digit once normalised: only punctuation or symbols."""
    return not any(unicodedata.category(char)[0] in "LN" for char in header_key(text))


# What a cell may start or end with that is not part of its value: the only white space a
# cell can hold (other control characters are refused).
EDGE_WHITESPACE = " \t\n\r"


def id_form(text: object) -> str:
    """The stored form of a nominal ID or crime reference: NFKC, one case (capitals), trimmed.

    IDs that differ only in case or width ("n100", "N100", "Ｎ１００") are the same person;
    punctuation and inner spaces are kept, as they may be part of the reference.
    """
    return unicodedata.normalize("NFKC", str(text)).casefold().upper().strip(EDGE_WHITESPACE)


# Characters refused in any header or cell, before anything is stored: C0 and C1 controls
# other than tab, line feed and carriage return (ESC starts terminal escape sequences, BEL
# rings, NEL breaks a line), the line and paragraph separators, and the bidirectional
# embeddings, overrides and isolates, which make text display in an order other than the one
# it is stored in (so "Officer 1" plus an override can look like another name).
FORBIDDEN_RANGES = ((0x00, 0x08), (0x0B, 0x0C), (0x0E, 0x1F), (0x7F, 0x9F),
                    (0x2028, 0x202E), (0x2066, 0x2069))
FORBIDDEN = re.compile("[" + "".join(f"\\U{low:08x}-\\U{high:08x}"
                                     for low, high in FORBIDDEN_RANGES) + "]")
# The same class for DuckDB's regular expressions (RE2 syntax).
FORBIDDEN_RE2 = "[" + "".join(f"\\x{{{low:x}}}-\\x{{{high:x}}}"
                              for low, high in FORBIDDEN_RANGES) + "]"


def visible(text: object) -> str:
    """The text with each refused character written out as <U+XXXX>, safe to print or show."""
    return FORBIDDEN.sub(lambda found: f"<U+{ord(found.group()):04X}>", str(text))


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "id", "date", "category", "text" or "money"
    required: bool = False
    aliases: tuple[str, ...] = ()
    # A closed vocabulary rejects any other value; None means any value, shown in one spelling.
    vocabulary: tuple[str, ...] | None = None
    value_aliases: dict[str, str] = field(default_factory=dict)
    stored: bool = True
    blank_as: str | None = None
    help: str = ""


STATUSES = ("Referral/Waiting", "Active", "Inactive", "Withdrawn")
REFERRAL_SOURCES = (
    "O2R officer outreach",
    "Retail business",
    "Neighbourhood policing team",
    "Probation",
    "Custody",
    "Partner agency",
    "Word of mouth",
)
EXIT_REASONS = ("Completed", "Self-discharged", "Discharged - rule breach", "Discharged - other")
OUTCOMES = (
    "Not interested",
    "Did not meet criteria",
    "Diverted - partner agency",
    "Diverted - prison",
    "Ongoing engagement",
    "Withdrawn",
    "Deceased",
)
STATUS_NOT_RECORDED = "Not recorded"
UNALLOCATED = "Unallocated"


def is_unallocated(officer: str) -> bool:
    """Whether an officer name is the tracker's blank officer, in any case."""
    return officer.casefold() == UNALLOCATED.casefold()


TRACKER = (
    Column("nominal_id", "id", True, ("nominal", "nominal ref", "nominal reference", "person id",
                                       "nominal number", "nominal no")),
    Column("referral_date", "date", True, ("date referred", "referred", "date of referral")),
    Column("officer", "category", aliases=("o2r officer", "assigned officer", "officer name",
                                            "allocated officer"), blank_as=UNALLOCATED),
    Column("referral_source", "category", True, ("source", "referral route", "referred by",
                                                  "source of referral"),
           vocabulary=REFERRAL_SOURCES,
           value_aliases={"officer outreach": "O2R officer outreach",
                          "outreach": "O2R officer outreach",
                          "o2r outreach": "O2R officer outreach",
                          "retail": "Retail business", "retailer": "Retail business",
                          "shop": "Retail business", "npt": "Neighbourhood policing team",
                          "neighbourhood team": "Neighbourhood policing team",
                          "neighbourhood policing": "Neighbourhood policing team",
                          "partner": "Partner agency", "word of mouth referral": "Word of mouth",
                          "self referral": "Word of mouth"}),
    # Not "referrer": a column of who referred holds people's names (see IDENTIFYING_KEYS).
    Column("referral_source_detail", "category", aliases=("source detail", "referral detail",
                                                           "npt retailer")),
    # Not "offending location": a location is an address (see offence_area below).
    Column("offending_area", "category", aliases=("primary offending area", "area")),
    Column("status", "category", aliases=("current status", "nominal status",
                                           "current nominal status"),
           vocabulary=STATUSES, blank_as=STATUS_NOT_RECORDED,
           value_aliases={"waiting": "Referral/Waiting", "referral": "Referral/Waiting",
                          "referrals waiting": "Referral/Waiting",
                          "referrals/waiting": "Referral/Waiting",
                          "referred": "Referral/Waiting"}),
    Column("first_contact_date", "date", aliases=("first contact", "date of first contact",
                                                   "contact date")),
    Column("assessment_date", "date", aliases=("police assessment date", "wmp assessment date",
                                                "o2r assessment date", "assessed")),
    Column("pre_admission_start_date", "date", aliases=("pre admission start",
                                                         "pre admission course start",
                                                         "pre admission date")),
    Column("rehab_assessment_date", "date", aliases=("rehab assessment",)),
    Column("rehab_admission_date", "date", aliases=("rehab admission", "admission date",
                                                     "date admitted", "rehab start date")),
    # Not "rehab": a workbook's merged heading over all the rehab columns reads so, and would
    # take the first of them (a date) as the facility.
    Column("rehab_facility", "category", aliases=("facility", "rehab centre",
                                                   "rehabilitation facility")),
    Column("rehab_exit_date", "date", aliases=("rehab exit", "exit date", "discharge date",
                                                "date discharged")),
    Column("rehab_exit_reason", "category", aliases=("exit reason", "discharge reason",
                                                      "reason for exit"),
           vocabulary=EXIT_REASONS,
           value_aliases={"completed 12 weeks": "Completed", "complete": "Completed",
                          "self discharge": "Self-discharged", "self discharged": "Self-discharged",
                          "rule breach": "Discharged - rule breach",
                          "discharged rule breach": "Discharged - rule breach",
                          "discharged for breaking rules": "Discharged - rule breach",
                          "discharged": "Discharged - other", "other": "Discharged - other"}),
    Column("outcome", "category", vocabulary=OUTCOMES,
           value_aliases={"did not meet the criteria": "Did not meet criteria",
                          "not eligible": "Did not meet criteria",
                          "diverted partner": "Diverted - partner agency",
                          "partner agency": "Diverted - partner agency",
                          "diverted cgl": "Diverted - partner agency",
                          "prison": "Diverted - prison", "diverted to prison": "Diverted - prison",
                          "ongoing": "Ongoing engagement", "engaging": "Ongoing engagement",
                          "still engaging": "Ongoing engagement", "dead": "Deceased"}),
    # Read only to derive an age band at referral; never stored.
    Column("date_of_birth", "date", aliases=("dob", "birth date", "d o b"), stored=False),
)

CONNECT = (
    Column("crime_reference", "id", True, ("crime ref", "crime number", "crime no", "crn",
                                            "crime reference number", "occurrence number")),
    Column("nominal_id", "id", True, ("nominal", "nominal ref", "nominal reference", "person id",
                                       "nominal number", "nominal no")),
    Column("offence_date", "date", True, ("date of offence", "committed date", "offence date from",
                                           "date committed")),
    # Not "offence description": a records system's description is the free-text account of
    # what happened, with names in it (see IDENTIFYING_FRAGMENTS).
    Column("offence_type", "category", True, ("offence", "crime type", "type")),
    # Not "location": a records system's offence location is an address (a home's, for some
    # offences), not an area; a force whose export has only that maps it knowingly.
    Column("offence_area", "category", aliases=("area", "neighbourhood")),
    Column("value_stolen", "money", aliases=("value", "property value", "value stolen gbp",
                                              "value of goods", "amount")),
)

CONTRACTS = {"tracker": TRACKER, "connect": CONNECT}

# Headers that identify a person or hold free text: matched and dropped, never stored.
IDENTIFYING_KEYS = {
    "name", "names", "fullname", "firstname", "forename", "forenames", "surname", "lastname",
    "familyname", "givenname", "clientname", "nominalname", "offendername", "personname",
    "alias", "aliases", "address", "homeaddress", "currentaddress", "postcode", "postalcode",
    "phone", "phonenumber", "telephone", "telephonenumber", "tel", "mobile", "mobilenumber",
    "email", "emailaddress", "pnc", "pncid", "pncnumber", "pncno", "cro", "cronumber",
    "ni", "nino", "ninumber", "nationalinsurance", "nationalinsurancenumber", "notes", "note",
    "comments", "comment", "freetext", "remarks", "narrative", "summary", "description",
    "casenotes", "updates", "update", "nhsnumber", "telno", "mobileno", "mob", "mobno",
    "referrer", "referredby",
}
IDENTIFYING_FRAGMENTS = ("name", "address", "postcode", "phone", "email", "pnc", "nationalins",
                         "note", "comment", "birth", "dob", "description", "narrative",
                         "location")


@dataclass
class Contract:
    """One export's columns, with a force's own header and value mappings applied."""

    kind: str
    columns: tuple[Column, ...]
    extra_header_aliases: dict[str, str] = field(default_factory=dict)
    extra_value_aliases: dict[str, dict[str, str]] = field(default_factory=dict)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def header_lookup(self) -> dict[str, str]:
        """Normalised header -> canonical column name."""
        lookup: dict[str, str] = {}
        for col in self.columns:
            lookup[header_key(col.name)] = col.name
            for alias in col.aliases:
                lookup[header_key(alias)] = col.name
        for header, name in self.extra_header_aliases.items():
            lookup[header_key(header)] = name
        return lookup

    def value_lookup(self, col: Column) -> dict[str, str]:
        """Normalised value -> the one spelling shown, for a closed vocabulary."""
        lookup = {header_key(v): v for v in col.vocabulary or ()}
        for alias, value in {**col.value_aliases,
                             **self.extra_value_aliases.get(col.name, {})}.items():
            lookup[header_key(alias)] = value
        return lookup


BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")


def classify_header(header: str, lookup: dict[str, str]) -> tuple[str, str | None]:
    """('column', name), ('identifying', None), ('blank', None) or ('unknown', None)."""
    key = header_key(header)
    if not key:
        return "blank", None
    if key in lookup:
        return "column", lookup[key]
    # A hint in brackets is not part of the name: "Referral Date (dd/mm/yyyy)", "Value (£)";
    # unless the hint says the column identifies someone ("Nominal (name)").
    bare = header_key(BRACKETED.sub("", str(header)))
    hint = header_key("".join(BRACKETED.findall(str(header))))
    if bare in lookup and not is_identifying(hint):
        return "column", lookup[bare]
    if is_identifying(key):
        return "identifying", None
    return "unknown", None


def is_identifying(key: str) -> bool:
    """Whether a header's key names a column that identifies someone or holds free text."""
    return key in IDENTIFYING_KEYS or any(fragment in key for fragment in IDENTIFYING_FRAGMENTS)


class ColumnMapError(ValueError):
    """The mapping file is unreadable or names a column that does not exist."""


def load_contract(kind: str, map_file: Path | None = None) -> Contract:
    """The contract for 'tracker' or 'connect', with the force's mapping file applied."""
    contract = Contract(kind, CONTRACTS[kind])
    if map_file is None:
        return contract
    try:
        settings = tomllib.loads(Path(map_file).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ColumnMapError(f"Column map {map_file} could not be read: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ColumnMapError(f"Column map {map_file} is not UTF-8 text (byte {exc.start + 1} "
                             "is not); save it as UTF-8") from exc
    known = {c.name for c in contract.columns}
    section = table_in(map_file, settings, kind, f"[{kind}]")
    headers = table_in(map_file, section, "headers", f"[{kind}.headers]")
    values = table_in(map_file, section, "values", f"[{kind}.values]")
    for header, name in headers.items():
        if not isinstance(name, str) or name not in known:
            raise ColumnMapError(
                f"Column map {map_file}: [{kind}.headers] maps {header!r} to {name!r}, "
                f"which is not one of: {', '.join(sorted(known))}")
        if contract.column(name).stored and would_store_a_person(contract, header, name):
            raise ColumnMapError(
                f"Column map {map_file}: [{kind}.headers] maps {header!r} to {name!r}, but "
                f"{header!r} is a column that identifies a person or holds free text (a name, "
                "date of birth, address or notes), which is never stored; remove that line")
    for name in values:
        col = next((c for c in contract.columns if c.name == name), None)
        if col is None or col.vocabulary is None:
            raise ColumnMapError(
                f"Column map {map_file}: [{kind}.values.{name}] is not a column with a fixed "
                "list of values")
        for alias, value in table_in(map_file, values, name,
                                     f"[{kind}.values.{name}]").items():
            if value not in col.vocabulary:
                raise ColumnMapError(
                    f"Column map {map_file}: [{kind}.values.{name}] maps {alias!r} to "
                    f"{value!r}, which is not one of: {', '.join(col.vocabulary)}")
    contract.extra_header_aliases = dict(headers)
    contract.extra_value_aliases = {k: dict(v) for k, v in values.items()}
    return contract


def table_in(map_file: Path, settings: dict, key: str, where: str) -> dict:
    """settings[key] (empty if absent), which must be a TOML table."""
    found = settings.get(key, {})
    if not isinstance(found, dict):
        raise ColumnMapError(f"Column map {map_file}: {where} must be a table (a [section] "
                             f'heading, then "name" = "value" lines), not {found!r}')
    return found


def would_store_a_person(contract: Contract, header: str, name: str) -> bool:
    """True if a column map's header is one the contract on its own drops as identifying a
    person or holding free text (a name, date of birth, address, notes): mapped to a stored
    column `name`, it would be stored. The officer column may take an officer's name ("Case
    Officer Name"), not their notes."""
    what, column = classify_header(header, Contract(contract.kind,
                                                    contract.columns).header_lookup())
    if what == "column":
        return not contract.column(column).stored
    if what != "identifying":
        return False
    key = header_key(header)
    return not (name == "officer" and "officer" in key
                and classify_header(key.replace("name", ""), {})[0] != "identifying")


def spreadsheet_column(index: int) -> str:
    """A column's letters as a spreadsheet shows them: 0 is A, 26 is AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
