#!/usr/bin/env python3
"""Check a facilitators CSV against the registry's import format.

    python3 bench/validate_csv.py FILE.csv [--demo] [--max-rows N]

Checks the exact header, every field rule (sector, stages, markets, country,
registration and VAT numbers, website, e-mail, phone, status, contacts JSON)
and that (country, registration_number) is unique. With --demo it also checks
the spread the demo seed promises (every sector, at least six countries).
Standard library only, so it runs with any python3.
"""

import argparse
import collections
import csv
import json
import re
import sys
import uuid

HEADER = [
    "id", "legal_name", "aliases", "sector", "stages", "markets", "country",
    "registration_number", "vat_number", "street", "postal_code", "city",
    "website", "email", "phone", "status", "notes", "contacts",
]
SECTORS = {
    "courier", "postal_service", "parcel_delivery", "food_delivery",
    "stealth_packaging", "internet_service_provider", "hosting_provider",
    "encrypted_messaging", "social_media", "cryptocurrency_exchange",
    "payment_service", "other",
}
STAGES = {"setting_up_marketplace", "running_marketplace", "selling", "shipping"}
MARKETS = {"drugs", "firearms", "contraband"}
STATUSES = {"", "active", "dormant", "dissolved", "archived"}
# ISO 3166-1 alpha-2 codes a European registry meets; a code outside the list
# is reported, so a typo such as "UK" or "EN" does not slip through.
COUNTRIES = set(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK "
    "GB CH NO IS LI US CA AU JP CN HK SG AE TR RU UA RS BA ME MK AL MD BY IL IN BR".split()
)
VAT_RULES = {
    "AT": r"ATU\d{8}", "BE": r"BE[01]\d{9}", "DE": r"DE\d{9}", "DK": r"DK\d{8}",
    "ES": r"ES[A-Z0-9]\d{7}[A-Z0-9]", "FI": r"FI\d{8}", "FR": r"FR[A-HJ-NP-Z0-9]{2}\d{9}",
    "IE": r"IE\d{7}[A-W][A-I]?", "IT": r"IT\d{11}", "LU": r"LU\d{8}",
    "NL": r"NL\d{9}B\d{2}", "PL": r"PL\d{10}", "PT": r"PT\d{9}", "SE": r"SE\d{12}",
    "CZ": r"CZ\d{8,10}",
}
VAT_RULES = {k: re.compile(v) for k, v in VAT_RULES.items()}
REG_RE = re.compile(r"[A-Z0-9][A-Z0-9 ./-]{0,39}")
URL_RE = re.compile(r"https://[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+(/[^\s]*)?")
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+")
# E.164-ish: "+49 30 1234567", "+33 1 42 12 34 56"; at most 15 digits in all
PHONE_RE = re.compile(r"\+[1-9]\d{0,2}( \d{1,10}){1,6}")
CONTACT_KEYS = {"name", "role", "email", "phone"}


def phone_ok(phone):
    return bool(PHONE_RE.fullmatch(phone)) and 8 <= sum(ch.isdigit() for ch in phone) <= 15


def row_errors(row):
    errs = []
    if row["id"] and not _is_uuid(row["id"]):
        errs.append("id is neither empty nor a UUID")
    if not row["legal_name"].strip() or row["legal_name"] != row["legal_name"].strip():
        errs.append("legal_name empty or padded")
    if row["aliases"] and any(not a.strip() for a in row["aliases"].split("|")):
        errs.append("empty alias")
    if row["sector"] not in SECTORS:
        errs.append(f"sector {row['sector']!r}")
    stages = row["stages"].split("|") if row["stages"] else []
    if not stages or any(s not in STAGES for s in stages) or len(set(stages)) != len(stages):
        errs.append(f"stages {row['stages']!r}")
    markets = row["markets"].split("|") if row["markets"] else []
    if any(m not in MARKETS for m in markets) or len(set(markets)) != len(markets):
        errs.append(f"markets {row['markets']!r}")
    cc = row["country"]
    if cc not in COUNTRIES:
        errs.append(f"country {cc!r}")
    if row["registration_number"] and not REG_RE.fullmatch(row["registration_number"]):
        errs.append(f"registration_number {row['registration_number']!r}")
    if row["vat_number"]:
        vat = row["vat_number"].replace(" ", "").upper()
        rule = VAT_RULES.get(cc)
        if rule is None or not rule.fullmatch(vat):
            errs.append(f"vat_number {row['vat_number']!r} for {cc}")
    for f in ("street", "postal_code", "city"):
        if not row[f].strip():
            errs.append(f"{f} empty")
    if row["website"] and not URL_RE.fullmatch(row["website"]):
        errs.append(f"website {row['website']!r}")
    if row["email"] and not EMAIL_RE.fullmatch(row["email"]):
        errs.append(f"email {row['email']!r}")
    if row["phone"] and not phone_ok(row["phone"]):
        errs.append(f"phone {row['phone']!r}")
    if row["status"] not in STATUSES:
        errs.append(f"status {row['status']!r}")
    if row["contacts"]:
        try:
            contacts = json.loads(row["contacts"])
        except ValueError as e:
            errs.append(f"contacts not JSON: {e}")
        else:
            if not isinstance(contacts, list):
                errs.append("contacts is not a JSON array")
            else:
                for c in contacts:
                    if not isinstance(c, dict) or set(c) - CONTACT_KEYS:
                        errs.append(f"contact {c!r}")
                    elif not isinstance(c.get("name"), str) or not c["name"].strip():
                        errs.append("contact without name")
                    elif c.get("email") and not EMAIL_RE.fullmatch(c["email"]):
                        errs.append(f"contact email {c['email']!r}")
                    elif c.get("phone") and not phone_ok(c["phone"]):
                        errs.append(f"contact phone {c['phone']!r}")
    return errs


def _is_uuid(s):
    try:
        uuid.UUID(s)
        return True
    except ValueError:
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--demo", action="store_true", help="also check the demo seed's spread")
    ap.add_argument("--max-rows", type=int, default=0, help="check only the first N rows (0 = all)")
    args = ap.parse_args()

    problems = 0
    seen = {}
    sectors = collections.Counter()
    countries = collections.Counter()
    statuses = collections.Counter()
    n = 0
    with open(args.file, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header != HEADER:
            print(f"header is {header!r}\n expected {HEADER!r}", file=sys.stderr)
            return 1
        for lineno, fields in enumerate(reader, start=2):
            if args.max_rows and n >= args.max_rows:
                break
            n += 1
            if len(fields) != len(HEADER):
                print(f"record {n} (line {lineno}): {len(fields)} fields", file=sys.stderr)
                problems += 1
                continue
            row = dict(zip(HEADER, fields))
            errs = row_errors(row)
            key = (row["country"], row["registration_number"])
            if row["registration_number"]:
                if key in seen:
                    errs.append(f"duplicate registration {key} (also record {seen[key]})")
                else:
                    seen[key] = n
            if errs:
                problems += 1
                if problems <= 30:
                    print(f"record {n} ({row['legal_name']!r}): " + "; ".join(errs), file=sys.stderr)
            sectors[row["sector"]] += 1
            countries[row["country"]] += 1
            statuses[row["status"] or "active"] += 1

    if args.demo:
        for s in sorted(SECTORS):
            need = 1 if s == "other" else 3
            if sectors[s] < need:
                print(f"demo: sector {s} has {sectors[s]} rows, needs {need}", file=sys.stderr)
                problems += 1
        if len(countries) < 6:
            print(f"demo: only {len(countries)} countries", file=sys.stderr)
            problems += 1

    print(f"{n} rows, {len(countries)} countries, {len(sectors)} sectors, "
          f"statuses {dict(statuses)}, {problems} with problems")
    if args.demo:
        print("sectors:", dict(sorted(sectors.items())))
        print("countries:", dict(sorted(countries.items())))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
