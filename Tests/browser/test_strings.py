"""The pages' strings: one file per language, every key once (a repeated key
silently hides the first), and every `{{t.…}}` a template names is there."""

import json
import pathlib
import re

PAGES = pathlib.Path(__file__).resolve().parents[2] / "templates" / "pages"


def load(path):
    repeated = []

    def pairs(items):
        keys = [k for k, _ in items]
        repeated.extend(sorted({k for k in keys if keys.count(k) > 1}))
        return dict(items)

    return json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=pairs), repeated


def test_no_key_is_repeated():
    for path in sorted((PAGES / "strings").glob("*.json")):
        _, repeated = load(path)
        assert repeated == [], f"{path.name} repeats {repeated}"


def test_every_string_a_template_names_exists():
    strings, _ = load(PAGES / "strings" / "en.json")
    missing = []
    for template in sorted(PAGES.glob("*.mustache")):
        for key in re.findall(r"\{\{\{?[#^/]?t\.([A-Za-z0-9_.]+)\}?\}\}", template.read_text(encoding="utf-8")):
            node = strings
            for part in key.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if not isinstance(node, str):
                missing.append(f"{template.name}: t.{key}")
    assert missing == []
