"""`make messages`: extracts the texts people read from the sello package (babel.cfg), updates
each language's catalog (`layers/sello/locale/<language>/LC_MESSAGES/<domain>.po`) and compiles it
(`.mo`, committed beside it, so a fresh clone and the Lambda layer need no build step).

New texts arrive in the catalogs with an empty translation: fill them in, then run `make messages`
again to compile. The tests fail while any text has no translation, a fuzzy one, or a `.mo` that
does not match its `.po`.

    python -m tools.messages          # extract, update, compile
    python -m tools.messages --check  # change nothing; exit 1 when a catalog is out of date"""

from __future__ import annotations

import argparse
import fnmatch
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "layers" / "sello"
# Where texts for people are written: the package and the API functions.
SOURCES = (PACKAGE, ROOT / "functions")
MAPPING = ROOT / "babel.cfg"
# sello.i18n's deferred messages: _l(text, **params), _ln(singular, plural, n, **params).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "_ln": (1, 2)}
# Files whose texts belong to the `ride` domain (the printable documents' labels, Spanish source):
# Ecuador's RIDE and Mexico's printed CFDI; every other file's to `sello`.
RIDE_FILES = ("countries/*/ride.py", "countries/*/ride_layout.py", "countries/*/pdf.py", "countries/*/pdf_*.py")
COMMENT_TAGS = ("Translators:",)
PROJECT = "Sello"
WIDTH = 100


def _domains():
    sys.path.insert(0, str(ROOT / "layers"))
    from sello.i18n import DOMAINS, LANGUAGES, LOCALE_DIR

    return DOMAINS, LANGUAGES, LOCALE_DIR


def domain_of(filename: str) -> str:
    return "ride" if any(fnmatch.fnmatch(filename, p) for p in RIDE_FILES) else "sello"


def extract() -> dict[str, Catalog]:
    """Each domain's template (POT) as the code holds it now."""
    with MAPPING.open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    templates = {d: Catalog(project=PROJECT, domain=d, fuzzy=False) for d in ("sello", "ride")}
    # The mapping's patterns are relative to the repository; extraction walks each folder in it.
    for folder in SOURCES:
        prefix = folder.relative_to(ROOT).as_posix() + "/"
        folder_methods = [(p.removeprefix(prefix), m) for p, m in method_map if p.startswith(prefix)]
        folder_options = {p.removeprefix(prefix): o for p, o in options_map.items() if p.startswith(prefix)}
        for filename, lineno, message, comments, context in extract_from_dir(
                folder, folder_methods, folder_options, keywords=KEYWORDS, comment_tags=COMMENT_TAGS,
                strip_comment_tags=True):
            templates[domain_of(filename)].add(message, None, [(prefix + filename, lineno)],
                                               auto_comments=comments, context=context)
    return templates


def catalog_path(locale_dir: Path, language: str, domain: str, suffix: str = ".po") -> Path:
    return locale_dir / language / "LC_MESSAGES" / f"{domain}{suffix}"


def read_catalog(path: Path, language: str, domain: str) -> Catalog:
    if path.is_file():
        with path.open("rb") as f:
            catalog = read_po(f, locale=language, domain=domain)
    else:
        catalog = Catalog(locale=language, domain=domain, fuzzy=False)
        catalog.revision_date = catalog.creation_date
    # The header says what the file is, with no placeholders to fill in.
    catalog.header_comment = (f"# {catalog.locale.english_name} texts of Sello, domain {domain}.\n"
                              "# Updated by `make messages`; translate the empty msgstr entries.")
    catalog.project, catalog.version = PROJECT, "1"
    catalog.msgid_bugs_address = catalog.last_translator = catalog.language_team = PROJECT
    return catalog


def updated(template: Catalog, catalog: Catalog) -> Catalog:
    catalog.update(template, no_fuzzy_matching=True, update_header_comment=False, update_creation_date=False)
    catalog.obsolete.clear()
    catalog.fuzzy = False
    return catalog


def po_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, width=WIDTH, omit_header=False, ignore_obsolete=True, include_previous=False,
             include_lineno=False,
             sort_output=False)
    return out.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def targets():
    """(domain, language) of every catalog: each domain in each language but its source's."""
    domains, languages, locale_dir = _domains()
    return [(d, lang, locale_dir) for d, source in domains.items() for lang in languages if lang != source]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when out of date")
    args = parser.parse_args(argv)
    templates = extract()
    stale = []
    for domain, language, locale_dir in targets():
        po = catalog_path(locale_dir, language, domain)
        catalog = updated(templates[domain], read_catalog(po, language, domain))
        missing = [m.id for m in catalog if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple)
                                                                       else (m.string,)))]
        new_po, new_mo = po_bytes(catalog), mo_bytes(catalog)
        mo = po.with_suffix(".mo")
        old_po = po.read_bytes() if po.is_file() else b""
        old_mo = mo.read_bytes() if mo.is_file() else b""
        if args.check:
            if new_po != old_po or new_mo != old_mo:
                stale.append(str(po.relative_to(ROOT)))
        else:
            po.parent.mkdir(parents=True, exist_ok=True)
            po.write_bytes(new_po)
            mo.write_bytes(new_mo)
        print(f"{po.relative_to(ROOT)}: {len([m for m in catalog if m.id])} texts, {len(missing)} untranslated")
    if stale:
        print("out of date (run make messages):", ", ".join(stale))
        return 1
    return 0


def read_mo_file(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_mo(f)


if __name__ == "__main__":
    sys.exit(main())
