#!/usr/bin/env python3
"""Generate fixtures/broken/ from fixtures/valid/ and check the whole corpus.

Usage: python3 tools/make-fixtures.py [--check-only]

* Every broken file is one valid fixture with ONE defect (mutation as code below).
* Writes fixtures/broken/*.xml, fixtures/broken/verdicts.json and fixtures/valid/verdicts.json.
* Checks: every level1 file fails the iWmo 3.2 XSDs and its first XSD error concerns the element named
  in its verdict; every level2 and valid file passes the XSDs; the level-2 rules found by
  tools/rulecheck.py (a re-implementation of the official XSLT 2.10.5 in-message rules) equal the
  expected "rules" for level2 files and are empty for valid files.
XSDs are read from ../shared/iwmo-3.2/xsd (override with IWMO_XSD_DIR); they are not copied here.
Needs lxml.
"""
import json
import os
import re
import sys

from lxml import etree

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VALID = os.path.join(ROOT, "fixtures", "valid")
BROKEN = os.path.join(ROOT, "fixtures", "broken")
XSD_DIR = os.environ.get("IWMO_XSD_DIR") or os.path.normpath(os.path.join(ROOT, "..", "shared", "iwmo-3.2", "xsd"))
sys.path.insert(0, HERE)
import rulecheck  # noqa: E402

NS_RE = re.compile(r"^http://www\.istandaarden\.nl/iwmo/3_2/(wmo\d{3})/schema$")
_schemas = {}


def load(name):
    with open(os.path.join(VALID, name + ".xml"), encoding="utf-8") as f:
        return f.read()


V = {}


def base(name):
    if name not in V:
        V[name] = load(name)
    return V[name]


# ---------------------------------------------------------------- text mutation helpers
def rep(s, old, new, nth=None):
    """Replace `old` by `new`; exactly one occurrence unless nth (0-based) is given."""
    n = s.count(old)
    if nth is None:
        if n != 1:
            raise AssertionError(f"expected 1 occurrence of {old!r}, found {n}")
        return s.replace(old, new)
    if n <= nth:
        raise AssertionError(f"occurrence {nth} of {old!r} not found ({n})")
    i = -1
    for _ in range(nth + 1):
        i = s.index(old, i + 1)
    return s[:i] + new + s[i + len(old):]


def line(s, contains, nth=0):
    """Return the full line (with newline) containing `contains` (nth occurrence)."""
    lines = s.splitlines(keepends=True)
    hits = [ln_ for ln_ in lines if contains in ln_]
    return hits[nth]


def drop(s, contains, nth=0):
    """Remove the nth line containing `contains`."""
    lines = s.splitlines(keepends=True)
    idx = [i for i, ln_ in enumerate(lines) if contains in ln_]
    del lines[idx[nth]]
    return "".join(lines)


def block(s, tag, nth=0):
    """The full text of the nth element block <tag>…</tag> including indentation and newline."""
    pat = re.compile(r"^( *)<" + re.escape(tag) + r"(?:\s[^>]*)?>.*?^\1</" + re.escape(tag) + r">\n", re.S | re.M)
    m = list(pat.finditer(s))
    if len(m) <= nth:
        raise AssertionError(f"block {tag} #{nth} not found")
    return m[nth].group(0)


def swap_lines(s, a, b):
    la, lb = line(s, a), line(s, b)
    return rep(rep(s, la, "\0A"), lb, la).replace("\0A", lb)


def set_text(s, tag, value, nth=None):
    """Replace the text content of <tag>…</tag> (nth occurrence, or the only one)."""
    pat = re.compile(r"(<" + re.escape(tag) + r">)([^<]*)(</" + re.escape(tag) + r">)")
    ms = list(pat.finditer(s))
    if nth is None:
        if len(ms) != 1:
            raise AssertionError(f"expected 1 <{tag}>, found {len(ms)}")
        m = ms[0]
    else:
        m = ms[nth]
    return s[:m.start(2)] + value + s[m.end(2):]


# common paths
SP = "/Bericht/Client/StartProducten/StartProduct"
ST = "/Bericht/Client/StopProducten/StopProduct"
TP = "/Bericht/Client/ToegewezenProducten/ToegewezenProduct"
PR = "/Bericht/Declaratie/Clienten/Client/Prestaties/Prestatie"
CT = "/Bericht/Client/Contactgegevens/Contact"

FIX = []  # (filename, content(str|bytes), verdict dict)


def add(name, content, **verdict):
    FIX.append((name, content, verdict))


def L1(name, content, element, note):
    add(name, content, verdict="level1", element=element, note=note)


def L2(name, content, rules, element, note, unsure=False):
    v = dict(verdict="level2", rules=rules, element=element, note=note)
    if unsure:
        v["unsure"] = True
    add(name, content, **v)


def intake(name, content, error, note):
    add(name, content, verdict="intake", error=error, note=note)


# ================================================================= family a: intake
def build_intake():
    s = base("305a")
    b = s.encode("utf-8")
    intake("305-empty.xml", b"", "empty", "zero-byte file")
    add("305-bom.xml", b"\xef\xbb\xbf" + b, verdict="valid", warning="bom",
        note="305a with a UTF-8 byte order mark; OP192 says no BOM, but the content is fine: accept and warn")
    intake("305-encoding-iso-8859-1.xml",
           rep(s, 'encoding="UTF-8"', 'encoding="ISO-8859-1"').encode("utf-8"), "encoding",
           "XML declaration says ISO-8859-1; iWmo files must be UTF-8 (OP192)")
    intake("305-invalid-utf8.xml", rep(s, "Jansen", "Jans\xe9n").encode("utf-8").replace(b"Jans\xc3\xa9n", b"Jans\xe9n"),
           "utf8", "Achternaam contains byte 0xE9 (Latin-1 e-acute), which is not valid UTF-8")
    dt = ('<!DOCTYPE wmo305:Bericht [\n  <!ENTITY a "aaaaaaaaaa">\n  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n'
          '  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">\n]>\n')
    doc = rep(s, "<wmo305:Bericht ", dt + "<wmo305:Bericht ")
    doc = rep(doc, "<iwmo:Achternaam>Jansen</iwmo:Achternaam>", "<iwmo:Achternaam>&c;</iwmo:Achternaam>")
    intake("305-doctype-entities.xml", doc.encode("utf-8"), "doctype",
           "internal DTD subset with nested entity definitions (entity expansion attack, small)")
    doc = rep(s, "<wmo305:Bericht ", '<!DOCTYPE wmo305:Bericht [\n  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n<wmo305:Bericht ')
    doc = rep(doc, "<iwmo:Achternaam>Jansen</iwmo:Achternaam>", "<iwmo:Achternaam>&xxe;</iwmo:Achternaam>")
    intake("305-doctype-external-entity.xml", doc.encode("utf-8"), "doctype",
           "external entity SYSTEM file:///etc/passwd (XXE); must be rejected before any resolution")
    doc = rep(base("323a"), "<wmo323:Bericht ", "<!DOCTYPE wmo323:Bericht>\n<wmo323:Bericht ")
    intake("323-doctype-plain.xml", doc.encode("utf-8"), "doctype", "a bare <!DOCTYPE> without entities is refused as well")
    intake("305-unclosed-tag.xml", rep(s, "</wmo305:Bsn>", "").encode("utf-8"), "not-well-formed",
           "<wmo305:Bsn> is never closed")
    intake("305-mismatched-tag.xml", rep(s, "</wmo305:Geslacht>", "</wmo305:Geslachtsnaam>").encode("utf-8"),
           "not-well-formed", "<wmo305:Geslacht> closed by </wmo305:Geslachtsnaam>")
    intake("305-truncated.xml", s[: s.index("<wmo305:StartProducten>")].encode("utf-8"), "not-well-formed",
           "file cut off halfway (transfer aborted)")
    intake("305-not-xml.xml", b"BSN;Begindatum\n999990019;2025-01-09\n", "not-well-formed", "CSV text instead of XML")
    intake("305-release-3_1.xml", s.replace("/iwmo/3_2/", "/iwmo/3_1/").replace(
        "<wmo305:BerichtSubversie>2<", "<wmo305:BerichtSubversie>1<").encode("utf-8"), "unsupported-release",
        "iWmo 3.1 namespaces (…/iwmo/3_1/wmo305/schema)")
    intake("305-release-3_0.xml", s.replace("/iwmo/3_2/", "/iwmo/3_0/").replace(
        "<wmo305:BerichtSubversie>2<", "<wmo305:BerichtSubversie>0<").encode("utf-8"), "unsupported-release",
        "iWmo 3.0 namespaces (…/iwmo/3_0/wmo305/schema)")
    intake("305-ijw-namespace.xml", s.replace("http://www.istandaarden.nl/iwmo/3_2/wmo305/schema",
                                               "http://www.istandaarden.nl/ijw/3_2/jw305/schema").replace(
        "http://www.istandaarden.nl/iwmo/3_2/basisschema/schema", "http://www.istandaarden.nl/ijw/3_2/basisschema/schema")
        .encode("utf-8"), "unsupported-standard",
        "iJw 3.2 JW305 namespace (jeugd, not Wmo)")
    intake("305-foreign-namespace.xml", s.replace("http://www.istandaarden.nl/iwmo/3_2/wmo305/schema",
                                                   "urn:example:not-iwmo").encode("utf-8"), "not-iwmo",
           "root in a foreign namespace (urn:example:not-iwmo)")
    nons = re.sub(r"</?wmo305:", lambda m: m.group(0).replace("wmo305:", ""), s)
    nons = nons.replace(' xmlns:wmo305="http://www.istandaarden.nl/iwmo/3_2/wmo305/schema"', "")
    intake("305-no-namespace.xml", nons.encode("utf-8"), "not-iwmo", "root element <Bericht> without a namespace")


# ================================================================= family b: level 1 (XSD)
def build_level1():
    s = base("305a")
    L1("305-missing-begindatum.xml", drop(s, "<wmo305:Begindatum>"), SP + "/Begindatum", "required Begindatum removed")
    L1("305-missing-statusaanlevering.xml", drop(s, "<wmo305:StatusAanlevering>"), SP + "/StatusAanlevering",
       "required StatusAanlevering removed")
    L1("305-missing-header.xml", rep(s, block(s, "wmo305:Header"), ""), "/Bericht/Header", "whole Header removed")
    L1("305-missing-bsn.xml", drop(s, "<wmo305:Bsn>"), "/Bericht/Client/Bsn", "required Bsn removed")
    L1("305-order-status-before-begindatum.xml", swap_lines(s, "<wmo305:Begindatum>", "<wmo305:StatusAanlevering>"),
       SP + "/StatusAanlevering", "StatusAanlevering placed before Begindatum (sequence order)")
    L1("305-order-naam-before-geslacht.xml",
       rep(rep(s, line(s, "<wmo305:Geslacht>"), ""), "    </wmo305:Naam>\n", "    </wmo305:Naam>\n" + line(s, "<wmo305:Geslacht>")),
       "/Bericht/Client/Naam", "Naam placed before Geslacht")
    L1("305-unknown-element.xml", rep(s, line(s, "<wmo305:StatusAanlevering>"),
                                      line(s, "<wmo305:StatusAanlevering>") + "        <wmo305:Opmerking>eerste dag</wmo305:Opmerking>\n"),
       SP + "/Opmerking", "element Opmerking does not exist in WMO305")
    L1("305-identificatie-wrong-namespace.xml", rep(s, "<iwmo:Identificatie>ST2501100001</iwmo:Identificatie>",
                                                    "<wmo305:Identificatie>ST2501100001</wmo305:Identificatie>"),
       "/Bericht/Header/BerichtIdentificatie/Identificatie", "Identificatie in the message namespace instead of basisschema")
    L1("305-bsn-wrong-namespace.xml", rep(s, "<wmo305:Bsn>999990019</wmo305:Bsn>", "<iwmo:Bsn>999990019</iwmo:Bsn>"),
       "/Bericht/Client/Bsn", "Bsn in the basisschema namespace instead of the message namespace")
    L1("305-too-many-clients.xml", rep(s, "</wmo305:Client>\n", "</wmo305:Client>\n" + block(s, "wmo305:Client")),
       "/Bericht/Client[2]", "two Client elements; WMO305 allows exactly one")
    L1("305-too-many-products.xml", rep(s, block(s, "wmo305:Product"), block(s, "wmo305:Product") * 2),
       SP + "/Product[2]", "Product occurs twice in one StartProduct")
    L1("305-empty-startproducten.xml", rep(s, block(s, "wmo305:StartProducten"), "    <wmo305:StartProducten>\n    </wmo305:StartProducten>\n"),
       SP, "StartProducten without any StartProduct")
    L1("305-bsn-8-digits.xml", set_text(s, "wmo305:Bsn", "99999001"), "/Bericht/Client/Bsn", "Bsn has 8 digits")
    L1("305-bsn-letters.xml", set_text(s, "wmo305:Bsn", "99999001X"), "/Bericht/Client/Bsn", "Bsn contains a letter")
    L1("305-agb-7-digits.xml", set_text(s, "wmo305:Afzender", "8765432"), "/Bericht/Header/Afzender", "AGB code with 7 digits")
    L1("305-gemeentecode-letters.xml", set_text(s, "wmo305:Ontvanger", "03AB"), "/Bericht/Header/Ontvanger",
       "gemeentecode with letters")
    L1("305-gemeentecode-3-digits.xml", set_text(s, "wmo305:Ontvanger", "344"), "/Bericht/Header/Ontvanger",
       "gemeentecode without its leading zero")
    L1("305-identificatie-blank.xml", set_text(s, "iwmo:Identificatie", "   "), "/Bericht/Header/BerichtIdentificatie/Identificatie",
       "Identificatie only spaces")
    L1("305-identificatie-13-chars.xml", set_text(s, "iwmo:Identificatie", "ST25011000001"),
       "/Bericht/Header/BerichtIdentificatie/Identificatie", "Identificatie longer than 12 characters")
    L1("305-xsdversie-1.0.xml", set_text(s, "iwmo:BerichtXsdVersie", "1.0"), "/Bericht/Header/XsdVersie/BerichtXsdVersie",
       "version '1.0' does not match N.N.N")
    L1("305-productcode-6-chars.xml", set_text(s, "iwmo:Code", "02A01X"), SP + "/Product/Code", "ProductCode of 6 characters")
    L1("305-statusaanlevering-5.xml", set_text(s, "wmo305:StatusAanlevering", "5"), SP + "/StatusAanlevering",
       "StatusAanlevering 5 is not in the code list")
    L1("305-categorie-19.xml", set_text(s, "iwmo:Categorie", "19"), SP + "/Product/Categorie", "ProductCategorie 19 does not exist")
    L1("305-geslacht-7.xml", set_text(s, "wmo305:Geslacht", "7"), "/Bericht/Client/Geslacht", "Geslacht 7 does not exist")
    L1("305-begindatum-2025-02-30.xml", set_text(s, "wmo305:Begindatum", "2025-02-30"), SP + "/Begindatum", "no such date")
    L1("305-begindatum-2025-1-9.xml", set_text(s, "wmo305:Begindatum", "2025-1-9"), SP + "/Begindatum",
       "date without zero padding")
    L1("305-begindatum-dd-mm-yyyy.xml", set_text(s, "wmo305:Begindatum", "09-01-2025"), SP + "/Begindatum",
       "Dutch date notation")
    L1("305-begindatum-timezone-z.xml", set_text(s, "wmo305:Begindatum", "2025-01-09Z"), SP + "/Begindatum",
       "date with timezone Z (LDT_Datum forbids a timezone)")
    L1("305-begindatum-timezone-offset.xml", set_text(s, "wmo305:Begindatum", "2025-01-09+01:00"), SP + "/Begindatum",
       "date with timezone +01:00")
    L1("305-berichtcode-999.xml", set_text(s, "wmo305:BerichtCode", "999"), "/Bericht/Header/BerichtCode", "BerichtCode 999")
    L1("305-berichtcode-305.xml", set_text(s, "wmo305:BerichtCode", "305"), "/Bericht/Header/BerichtCode",
       "message number instead of BerichtCode 418")
    L1("305-berichtversie-4.xml", set_text(s, "wmo305:BerichtVersie", "4"), "/Bericht/Header/BerichtVersie", "BerichtVersie 4")
    L1("305-berichtsubversie-1.xml", set_text(s, "wmo305:BerichtSubversie", "1"), "/Bericht/Header/BerichtSubversie",
       "BerichtSubversie 1 (release 3.1) in a 3.2 namespace")
    L1("305-text-in-startproduct.xml", rep(s, "<wmo305:StartProduct>\n", "<wmo305:StartProduct>start per 9 januari\n"),
       SP, "text content directly inside the complex element StartProduct")
    L1("305-attribute-on-bsn.xml", rep(s, "<wmo305:Bsn>", '<wmo305:Bsn soort="BSN">'), "/Bericht/Client/Bsn",
       "attribute on an element (iWmo elements have no attributes)")
    L1("305-achternaam-whitespace.xml", set_text(s, "iwmo:Achternaam", "   "), "/Bericht/Client/Naam/Geslachtsnaam/Achternaam",
       "Achternaam only spaces")
    L1("305-voorletters-dots.xml", set_text(s, "iwmo:Voorletters", "M.J."), "/Bericht/Client/Naam/Voorletters",
       "Voorletters with dots")
    L1("305-toewijzingnummer-negative.xml", set_text(s, "wmo305:ToewijzingNummer", "-40001"), SP + "/ToewijzingNummer",
       "negative ToewijzingNummer")
    L1("305-toewijzingnummer-10-digits.xml", set_text(s, "wmo305:ToewijzingNummer", "1000000000"), SP + "/ToewijzingNummer",
       "ToewijzingNummer above 999999999")
    L1("305-root-not-bericht.xml", s.replace("<wmo305:Bericht ", "<wmo305:Startbericht ").replace("</wmo305:Bericht>", "</wmo305:Startbericht>"),
       "/Startbericht", "root element Startbericht instead of Bericht (right namespace)")

    s = base("307a")
    L1("307-missing-redenbeeindiging.xml", drop(s, "<wmo307:RedenBeeindiging>"), ST + "/RedenBeeindiging",
       "required RedenBeeindiging removed")
    L1("307-missing-einddatum.xml", drop(s, "<wmo307:Einddatum>"), ST + "/Einddatum", "required Einddatum removed")
    L1("307-redenbeeindiging-99.xml", set_text(s, "wmo307:RedenBeeindiging", "99"), ST + "/RedenBeeindiging",
       "RedenBeeindiging 99 does not exist")
    L1("307-redenbeeindiging-01.xml", set_text(s, "wmo307:RedenBeeindiging", "01"), ST + "/RedenBeeindiging",
       "01 is a RedenWijziging code, not a RedenBeeindiging code")
    L1("307-order-einddatum-before-reden.xml", swap_lines(s, "<wmo307:RedenBeeindiging>", "<wmo307:Einddatum>"),
       ST + "/Einddatum", "Einddatum placed before RedenBeeindiging")
    L1("307-empty-stopproducten.xml", rep(s, block(s, "wmo307:StopProducten"), "    <wmo307:StopProducten/>\n"), ST,
       "StopProducten without StopProduct")
    L1("307-bsn-10-digits.xml", set_text(s, "wmo307:Bsn", "9999900190"), "/Bericht/Client/Bsn", "Bsn with 10 digits")
    L1("307-einddatum-datetime.xml", set_text(s, "wmo307:Einddatum", "2025-03-14T00:00:00"), ST + "/Einddatum",
       "dateTime instead of date")
    L1("307-berichtcode-418.xml", set_text(s, "wmo307:BerichtCode", "418"), "/Bericht/Header/BerichtCode",
       "BerichtCode of the 305 in a 307")
    L1("307-statusaanlevering-empty.xml", set_text(s, "wmo307:StatusAanlevering", ""), ST + "/StatusAanlevering",
       "empty StatusAanlevering")
    L1("307-unknown-header-element.xml", rep(s, "    </wmo307:XsdVersie>\n", "    </wmo307:XsdVersie>\n    <wmo307:Prioriteit>1</wmo307:Prioriteit>\n"),
       "/Bericht/Header/Prioriteit", "unknown element Prioriteit in Header")
    L1("307-geboortedatum-missing-datum.xml", drop(s, "<iwmo:Datum>"), "/Bericht/Client/Geboortedatum/Datum",
       "Geboortedatum without Datum")
    L1("307-too-many-statusaanlevering.xml", rep(s, line(s, "<wmo307:StatusAanlevering>"), line(s, "<wmo307:StatusAanlevering>") * 2),
       ST + "/StatusAanlevering[2]", "StatusAanlevering twice")
    L1("307-einddatum-wrong-namespace.xml", rep(s, "<wmo307:Einddatum>2025-03-14</wmo307:Einddatum>", "<iwmo:Einddatum>2025-03-14</iwmo:Einddatum>"),
       ST + "/Einddatum", "Einddatum in the basisschema namespace")

    s = base("323a")
    L1("323-missing-totaalingediendbedrag.xml", rep(s, block(s, "wmo323:TotaalIngediendBedrag"), ""),
       "/Bericht/Declaratie/TotaalIngediendBedrag", "required TotaalIngediendBedrag removed")
    L1("323-missing-debetcredit.xml", drop(s, "<iwmo:DebetCredit>", 1), PR + "/IngediendBedrag/DebetCredit",
       "IngediendBedrag without DebetCredit")
    L1("323-missing-productcode.xml", drop(s, "<wmo323:ProductCode>"), PR + "/ProductCode",
       "ProductCode is required in a 323 Prestatie")
    L1("323-bedrag-100000000.xml", set_text(s, "iwmo:Bedrag", "100000000"), PR + "/IngediendBedrag/Bedrag",
       "Bedrag above 99999999 cents")
    L1("323-bedrag-decimal.xml", set_text(s, "iwmo:Bedrag", "959.00"), PR + "/IngediendBedrag/Bedrag",
       "amount in euros with decimals instead of integer cents")
    L1("323-volume-negative.xml", set_text(s, "wmo323:GeleverdVolume", "-14"), PR + "/GeleverdVolume", "negative GeleverdVolume")
    L1("323-eenheid-05.xml", set_text(s, "wmo323:Eenheid", "05"), PR + "/Eenheid", "Eenheid 05 does not exist in 3.2")
    L1("323-debetcredit-x.xml", set_text(s, "iwmo:DebetCredit", "X", nth=1), PR + "/IngediendBedrag/DebetCredit",
       "DebetCredit X")
    L1("323-declaratienummer-dash.xml", set_text(s, "wmo323:DeclaratieNummer", "DCL-2025-01"), "/Bericht/Declaratie/DeclaratieNummer",
       "DeclaratieNummer with '-' (323 allows only letters and digits)")
    L1("323-referentienummer-21-chars.xml", set_text(s, "iwmo:ReferentieNummer", "PR250100000100000001X"),
       PR + "/ProductReferentie/ReferentieNummer", "ReferentieNummer of 21 characters")
    L1("323-empty-prestaties.xml", rep(s, block(s, "wmo323:Prestaties"), "        <wmo323:Prestaties>\n        </wmo323:Prestaties>\n"),
       PR, "Prestaties without Prestatie")
    L1("323-empty-clienten.xml", rep(s, block(s, "wmo323:Clienten"), "    <wmo323:Clienten/>\n"),
       "/Bericht/Declaratie/Clienten/Client", "Clienten without Client")
    L1("323-referentienummer-wrong-namespace.xml", rep(s, "<iwmo:ReferentieNummer>PR2501000001</iwmo:ReferentieNummer>",
                                                       "<wmo323:ReferentieNummer>PR2501000001</wmo323:ReferentieNummer>"),
       PR + "/ProductReferentie/ReferentieNummer", "ReferentieNummer in the message namespace")
    L1("323-order-tarief-before-eenheid.xml", swap_lines(s, "<wmo323:Eenheid>", "<wmo323:ProductTarief>"),
       PR + "/ProductTarief", "ProductTarief placed before Eenheid")
    tb = ("            <wmo323:ToegekendBedrag>\n              <iwmo:Bedrag>95900</iwmo:Bedrag>\n"
          "              <iwmo:DebetCredit>D</iwmo:DebetCredit>\n            </wmo323:ToegekendBedrag>\n")
    L1("323-unknown-toegekendbedrag.xml", rep(s, "            </wmo323:IngediendBedrag>\n", "            </wmo323:IngediendBedrag>\n" + tb),
       PR + "/ToegekendBedrag", "ToegekendBedrag per Prestatie does not exist in 3.2")
    L1("323-declaratiedatum-old-name.xml", s.replace("wmo323:DeclaratieDagtekening>", "wmo323:DeclaratieDatum>"),
       "/Bericht/Declaratie/DeclaratieDatum", "DeclaratieDatum instead of DeclaratieDagtekening")
    L1("323-totaalbedrag-negative.xml", set_text(s, "iwmo:TotaalBedrag", "-95900"), "/Bericht/Declaratie/TotaalIngediendBedrag/TotaalBedrag",
       "negative total; the sign belongs in DebetCredit")
    L1("323-bsn-letters.xml", set_text(s, "wmo323:Bsn", "99999001X"), "/Bericht/Declaratie/Clienten/Client/Bsn", "Bsn with a letter")
    L1("323-producttarief-empty.xml", set_text(s, "wmo323:ProductTarief", ""), PR + "/ProductTarief", "empty ProductTarief")
    L1("323-too-many-declaraties.xml", rep(s, "  </wmo323:Declaratie>\n", "  </wmo323:Declaratie>\n" + block(s, "wmo323:Declaratie")),
       "/Bericht/Declaratie[2]", "two Declaratie elements")
    s = base("323b")
    L1("323-second-prestatie-bedrag-negative.xml", set_text(s, "iwmo:Bedrag", "-82200", nth=1), PR + "[2]/IngediendBedrag/Bedrag",
       "negative Bedrag in the second Prestatie")
    L1("323-third-prestatie-missing-eenheid.xml", drop(s, "<wmo323:Eenheid>", 2), PR + "[3]/Eenheid",
       "third Prestatie without Eenheid")

    s = base("301a")
    L1("301-missing-naamgebruik.xml", drop(s, "<iwmo:NaamGebruik>"), "/Bericht/Client/Naam/NaamGebruik",
       "NaamGebruik is required in CDT_VolledigeNaam")
    L1("301-missing-contactgegevens.xml", rep(s, block(s, "wmo301:Contactgegevens"), ""), "/Bericht/Client/Contactgegevens",
       "required Contactgegevens removed")
    L1("301-missing-toewijzingstijd.xml", drop(s, "<wmo301:Toewijzingstijd>"), TP + "/Toewijzingstijd",
       "required Toewijzingstijd removed")
    L1("301-frequentie-3.xml", set_text(s, "iwmo:Frequentie", "3"), TP + "/Omvang/Frequentie", "Frequentie 3 does not exist in 3.2")
    L1("301-huisnummer-100000.xml", set_text(s, "iwmo:Huisnummer", "100000"), CT + "/Adres/Huis/Huisnummer",
       "Huisnummer above 99999")
    L1("301-toewijzingstijd-25h.xml", set_text(s, "wmo301:Toewijzingstijd", "25:00:00"), TP + "/Toewijzingstijd", "no such time")
    L1("301-toewijzingstijd-hh-mm.xml", set_text(s, "wmo301:Toewijzingstijd", "10:15"), TP + "/Toewijzingstijd",
       "time without seconds")
    L1("301-toewijzingstijd-timezone.xml", set_text(s, "wmo301:Toewijzingstijd", "10:15:00Z"), TP + "/Toewijzingstijd",
       "time with timezone Z")
    L1("301-landcode-xx.xml", set_text(s, "iwmo:LandCode", "XX"), CT + "/Adres/LandCode", "LandCode XX is not ISO 3166")
    L1("301-redenwijziging-15.xml", rep(s, line(s, "<wmo301:Einddatum>"), line(s, "<wmo301:Einddatum>") + "        <wmo301:RedenWijziging>15</wmo301:RedenWijziging>\n"),
       TP + "/RedenWijziging", "RedenWijziging 15 does not exist")
    L1("301-afzender-agb.xml", set_text(s, "wmo301:Afzender", "87654321"), "/Bericht/Header/Afzender",
       "AGB code as Afzender of a 301 (must be a gemeentecode)")
    L1("301-too-many-omvang.xml", rep(s, block(s, "wmo301:Omvang"), block(s, "wmo301:Omvang") * 2), TP + "/Omvang[2]",
       "Omvang twice")
    L1("301-empty-toegewezenproducten.xml", rep(s, block(s, "wmo301:ToegewezenProducten"), "    <wmo301:ToegewezenProducten/>\n"),
       TP, "ToegewezenProducten without ToegewezenProduct")
    L1("301-volume-100000000.xml", set_text(s, "iwmo:Volume", "100000000"), TP + "/Omvang/Volume", "Volume above 99999999")
    L1("301-postcode-9-chars.xml", set_text(s, "iwmo:Postcode", "3512 AB 1"), CT + "/Adres/Postcode", "Postcode longer than 8")
    s = base("301c")
    L1("301-budget-negative.xml", set_text(s, "wmo301:Budget", "-100"), TP + "[2]/Budget",
       "negative Budget on the aspecific toewijzing 50002")
    s = base("301b")
    L1("301-second-product-missing-ingangsdatum.xml", drop(s, "<wmo301:Ingangsdatum>", 1), TP + "[2]/Ingangsdatum",
       "second ToegewezenProduct without Ingangsdatum")

    s = base("306a")
    L1("306-missing-identificatieretour.xml", drop(s, "<wmo306:IdentificatieRetour>"), "/Bericht/Header/IdentificatieRetour",
       "retour header without IdentificatieRetour")
    s = base("306b")
    L1("306-retourcode-9999.xml", set_text(s, "wmo306:RetourCode", "9999", nth=0), "/Bericht/Header/RetourCodes/RetourCode",
       "RetourCode 9999 is not in WJ001")
    L1("306-startproduct-missing-retourcodes.xml", rep(s, block(s, "wmo306:RetourCodes", 1), ""),
       "/Bericht/Client/StartProducten/StartProduct[1]/RetourCodes", "mirrored StartProduct without its RetourCodes")
    s = base("308a")
    L1("308-missing-dagtekeningretour.xml", drop(s, "<wmo308:DagtekeningRetour>"), "/Bericht/Header/DagtekeningRetour",
       "retour header without DagtekeningRetour")
    s = base("325a")
    L1("325-missing-header-retourcodes.xml", rep(s, block(s, "wmo325:RetourCodes", 0), ""), "/Bericht/Header/RetourCodes",
       "325 header requires RetourCodes")
    L1("325-missing-totaaltoegekendbedrag.xml", rep(s, block(s, "wmo325:TotaalToegekendBedrag"), ""),
       "/Bericht/DeclaratieAntwoord/TotaalToegekendBedrag", "required TotaalToegekendBedrag removed")
    s = base("325b")
    L1("325-prestatie-missing-retourcodes.xml", rep(s, block(s, "wmo325:RetourCodes", 1), ""),
       "/Bericht/DeclaratieAntwoord/Clienten/Client/Prestaties/Prestatie/RetourCodes", "returned Prestatie without RetourCodes")


# ================================================================= family c: level 2 (XSLT rules)
def build_level2():
    s = base("305a")
    L2("305-bsn-elfproef.xml", set_text(s, "wmo305:Bsn", "999990018"), ["CS002"], "/Bericht/Client/Bsn",
       "BSN 999990018 fails the 11-proef")
    L2("305-status-2.xml", set_text(s, "wmo305:StatusAanlevering", "2"), ["CS058"], SP + "/StatusAanlevering",
       "StatusAanlevering 2 (gewijzigd) is not allowed")
    L2("305-status-9.xml", set_text(s, "wmo305:StatusAanlevering", "9"), ["CS058"], SP + "/StatusAanlevering",
       "StatusAanlevering 9 (niet van toepassing) is not allowed")
    L2("305-begindatum-after-dagtekening.xml", set_text(s, "wmo305:Begindatum", "2025-01-13"), ["TR134"], SP + "/Begindatum",
       "Begindatum 2025-01-13 after Dagtekening 2025-01-10")
    L2("305-duplicate-startproduct.xml", rep(s, block(s, "wmo305:StartProduct"), block(s, "wmo305:StartProduct") * 2), ["TR101"],
       SP + "[2]", "the same StartProduct (same logical key) twice in one message")
    L2("305-duplicate-key-other-status.xml",
       rep(s, block(s, "wmo305:StartProduct"), block(s, "wmo305:StartProduct").replace(">1</wmo305:StatusAanlevering>", ">3</wmo305:StatusAanlevering>")
           + block(s, "wmo305:StartProduct")), ["TR101"], SP + "[2]",
       "delete (3) and new (1) with the same key in one message: the key does not include StatusAanlevering (IV008: needs two messages)")
    L2("305-geboortedatum-after-dagtekening.xml", set_text(s, "iwmo:Datum", "2025-02-01"), ["TR134"],
       "/Bericht/Client/Geboortedatum/Datum", "client born after the message date")
    L2("305-geboortedatum-over-120-years.xml", set_text(s, "iwmo:Datum", "1904-05-01"), ["TR002"],
       "/Bericht/Client/Geboortedatum/Datum", "Geboortedatum more than 120 years before Dagtekening, DatumGebruik not 3")
    L2("305-datumgebruik-inconsistent.xml", rep(s, line(s, "<iwmo:Datum>"), line(s, "<iwmo:Datum>") + "      <iwmo:DatumGebruik>2</iwmo:DatumGebruik>\n"),
       ["CS139"], "/Bericht/Client/Geboortedatum/DatumGebruik", "DatumGebruik 2 (day+month unknown) but Datum 1948-03-12 is not yyyy-01-01")
    s = base("305c")
    L2("305-second-startproduct-begindatum-after-dagtekening.xml", set_text(s, "wmo305:Begindatum", "2025-06-11", nth=1), ["TR134"],
       SP + "[2]/Begindatum", "second StartProduct begins the day after Dagtekening 2025-06-10")

    s = base("307a")
    L2("307-bsn-elfproef.xml", set_text(s, "wmo307:Bsn", "999990021"), ["CS002"], "/Bericht/Client/Bsn",
       "BSN 999990021 fails the 11-proef")
    L2("307-status-2.xml", set_text(s, "wmo307:StatusAanlevering", "2"), ["CS058"], ST + "/StatusAanlevering", "StatusAanlevering 2")
    L2("307-status-9.xml", set_text(s, "wmo307:StatusAanlevering", "9"), ["CS058"], ST + "/StatusAanlevering", "StatusAanlevering 9")
    L2("307-einddatum-before-begindatum.xml", set_text(s, "wmo307:Einddatum", "2025-01-07"), ["TR018"], ST + "/Einddatum",
       "Einddatum 2025-01-07 before Begindatum 2025-01-08")
    L2("307-einddatum-after-dagtekening.xml", set_text(s, "wmo307:Einddatum", "2025-03-21"), ["TR134"], ST + "/Einddatum",
       "stop Einddatum 2025-03-21 after Dagtekening 2025-03-17")
    L2("307-duplicate-stopproduct.xml", rep(s, block(s, "wmo307:StopProduct"), block(s, "wmo307:StopProduct") * 2), ["TR101"],
       ST + "[2]", "the same StopProduct twice")

    s = base("301a")
    L2("301-bsn-elfproef.xml", set_text(s, "wmo301:Bsn", "999990011"), ["CS002"], "/Bericht/Client/Bsn",
       "BSN 999990011 fails the 11-proef")
    L2("301-frequentie-week-without-einddatum.xml", drop(s, "<wmo301:Einddatum>"), ["CD076"], TP + "/Einddatum",
       "Frequentie 2 (per week) requires an Einddatum")
    L2("301-omvang-and-budget.xml", rep(s, "        </wmo301:Omvang>\n", "        </wmo301:Omvang>\n        <wmo301:Budget>120000</wmo301:Budget>\n"),
       ["CD077", "CD078"], TP + "/Budget", "Omvang and Budget both filled")
    L2("301-no-product-no-budget.xml", rep(rep(s, block(s, "wmo301:Product"), ""), block(s, "wmo301:Omvang"), ""), ["CD079"],
       TP + "/Product", "no Product and no Budget (Omvang removed too, so only CD079 fires)")
    L2("301-code-without-omvang.xml", rep(s, block(s, "wmo301:Omvang"), ""), ["CD041"], TP + "/Omvang",
       "Product/Code filled but Omvang missing")
    L2("301-aspecific-with-omvang.xml", drop(s, "<iwmo:Code>"), ["CD080"], TP + "/Omvang",
       "aspecific (no Code) toewijzing after 2020 must not have an Omvang")
    L2("301-redenwijziging-01.xml", rep(s, line(s, "<wmo301:Einddatum>"), line(s, "<wmo301:Einddatum>") + "        <wmo301:RedenWijziging>01</wmo301:RedenWijziging>\n"),
       ["CS336"], TP + "/RedenWijziging", "RedenWijziging 01 (vervallen) is not allowed")
    L2("301-redenwijziging-13-einddatum.xml", rep(s, line(s, "<wmo301:Einddatum>"), line(s, "<wmo301:Einddatum>") + "        <wmo301:RedenWijziging>13</wmo301:RedenWijziging>\n"),
       ["CS335"], TP + "/Einddatum", "RedenWijziging 13 (verwijderd) with Einddatum 2025-12-31 != Ingangsdatum 2025-01-06")
    L2("301-einddatum-before-ingangsdatum.xml", set_text(s, "wmo301:Einddatum", "2025-01-05"), ["CS003"], TP + "/Einddatum",
       "Einddatum 2025-01-05 before Ingangsdatum 2025-01-06")
    L2("301-no-contact-01-02-03.xml", set_text(s, "wmo301:Soort", "04"), ["TR061"], CT,
       "only a Contact with Soort 04 (tijdelijk); at least one 01/02/03 is required")
    tp2 = block(s, "wmo301:ToegewezenProduct").replace(">40001<", ">40003<").replace(">2025-01-06<", ">2025-06-02<")
    L2("301-overlapping-product.xml", rep(s, "    </wmo301:ToegewezenProducten>\n", tp2 + "    </wmo301:ToegewezenProducten>\n"),
       ["TR302"], TP + "[2]", "second toewijzing 40003 of the same product 02/02A01 overlaps 40001")
    L2("301-postcode-format.xml", set_text(s, "iwmo:Postcode", "3512 AB"), ["CS089"], CT + "/Adres/Postcode",
       "Postcode '3512 AB' (with space) while LandCode is NL")
    om = block(s, "wmo301:Omvang").replace(">04</iwmo:Eenheid>", ">14</iwmo:Eenheid>").replace(">2</iwmo:Frequentie>", ">1</iwmo:Frequentie>")
    L2("301-eenheid-14-frequentie-1.xml", rep(s, block(s, "wmo301:Omvang"), om), ["CS338"], TP + "/Omvang/Frequentie",
       "Eenheid 14 (etmaal) per dag is not allowed; Frequentie must be 2, 4 or 6")
    L2("301-datumgebruik-inconsistent.xml", rep(s, line(s, "<iwmo:Datum>"), line(s, "<iwmo:Datum>") + "      <iwmo:DatumGebruik>1</iwmo:DatumGebruik>\n"),
       ["CS139"], "/Bericht/Client/Geboortedatum/DatumGebruik", "DatumGebruik 1 (day unknown) but the day is 12, not 01")
    dup = ("      <wmo301:ToegewezenProduct>\n        <wmo301:ToewijzingNummer>40001</wmo301:ToewijzingNummer>\n"
           "        <wmo301:Product>\n          <iwmo:Categorie>07</iwmo:Categorie>\n        </wmo301:Product>\n"
           "        <wmo301:Toewijzingsdatum>2024-12-20</wmo301:Toewijzingsdatum>\n"
           "        <wmo301:Toewijzingstijd>10:15:00</wmo301:Toewijzingstijd>\n"
           "        <wmo301:Ingangsdatum>2025-01-06</wmo301:Ingangsdatum>\n"
           "        <wmo301:Einddatum>2025-12-31</wmo301:Einddatum>\n      </wmo301:ToegewezenProduct>\n")
    L2("301-duplicate-toewijzingnummer.xml", rep(s, "    </wmo301:ToegewezenProducten>\n", dup + "    </wmo301:ToegewezenProducten>\n"),
       ["TR101"], TP + "[2]", "ToewijzingNummer 40001 used for two ToegewezenProducten in one message")
    L2("301-toewijzingsdatum-after-dagtekening.xml", set_text(s, "wmo301:Toewijzingsdatum", "2024-12-23"), ["TR134"],
       TP + "/Toewijzingsdatum", "Toewijzingsdatum 2024-12-23 after Dagtekening 2024-12-20")
    L2("301-naamgebruik-without-partnernaam.xml", set_text(s, "iwmo:NaamGebruik", "2"), ["CS050"], "/Bericht/Client/Naam/NaamGebruik",
       "NaamGebruik 2 requires a Partnernaam; without it only 1 is allowed")
    L2("301-postcode-without-landcode.xml", drop(s, "<iwmo:LandCode>"), ["CD005"], CT + "/Adres/LandCode",
       "Postcode filled but LandCode empty")
    s = base("301c")
    L2("301-budget-without-einddatum.xml", drop(s, "<wmo301:Einddatum>", 1), ["CD075"], TP + "[2]/Einddatum",
       "aspecific toewijzing 50002 with Budget but without Einddatum")
    L2("301-deleted-product-not-same-day.xml", set_text(s, "wmo301:Einddatum", "2025-07-31", nth=3), ["CS335"], TP + "[4]/Einddatum",
       "RedenWijziging 13 on 50004 but Einddatum 2025-07-31 != Ingangsdatum 2025-07-01")
    s = base("301d")
    L2("301-contact-periode-not-04.xml", rep(s, "          <iwmo:Postcode>3581KP</iwmo:Postcode>\n",
                                             "          <iwmo:Postcode>3581KP</iwmo:Postcode>\n", ) .replace(
        "          <iwmo:LandCode>NL</iwmo:LandCode>\n        </wmo301:Adres>\n      </wmo301:Contact>\n      <wmo301:Contact>\n        <wmo301:Soort>02</wmo301:Soort>",
        "          <iwmo:LandCode>NL</iwmo:LandCode>\n        </wmo301:Adres>\n        <wmo301:Periode>\n          <iwmo:Begindatum>2025-07-01</iwmo:Begindatum>\n"
        "        </wmo301:Periode>\n      </wmo301:Contact>\n      <wmo301:Contact>\n        <wmo301:Soort>02</wmo301:Soort>", 1),
       ["CD009"], "/Bericht/Client/Contactgegevens/Contact[1]/Periode", "Periode is only allowed on a Contact with Soort 04")
    L2("301-duplicate-contact-soort.xml", set_text(s, "wmo301:Soort", "01", nth=5), ["TR101"],
       "/Bericht/Client/Contactgegevens/Contact[2]", "two Contacts with Soort 01 in Contactgegevens (the 6th Soort of the message is Contact[2])")
    L2("301-relatie-contact-without-phone-or-address.xml",
       rep(s, block(s, "wmo301:Telefoon", 0), ""), ["TR006"], "/Bericht/Client/Relaties/Relatie[1]/Contact",
       "Contact of the first Relatie has only an e-mail address (needs Telefoon or Huis+Postcode)")
    L2("301-taal-without-vorm-1.xml", rep(s, "      <iwmo:Vorm>2</iwmo:Vorm>\n", "      <iwmo:Vorm>2</iwmo:Vorm>\n      <iwmo:Taal>nl</iwmo:Taal>\n"),
       ["CD007"], "/Bericht/Client/Communicatie/Taal", "Taal only allowed with Communicatie/Vorm 1 (tolk taal)")

    s = base("323a")
    L2("323-bsn-elfproef.xml", set_text(s, "wmo323:Bsn", "999990018"), ["CS002"], "/Bericht/Declaratie/Clienten/Client/Bsn",
       "BSN 999990018 fails the 11-proef")
    L2("323-total-mismatch.xml", set_text(s, "iwmo:TotaalBedrag", "95000"), ["TR358"],
       "/Bericht/Declaratie/TotaalIngediendBedrag/TotaalBedrag", "TotaalIngediendBedrag 95000 != sum of Prestaties 95900")
    L2("323-total-wrong-sign.xml", rep(s, "<iwmo:DebetCredit>D</iwmo:DebetCredit>", "<iwmo:DebetCredit>C</iwmo:DebetCredit>", nth=0), ["TR358"],
       "/Bericht/Declaratie/TotaalIngediendBedrag/DebetCredit", "total marked C while the sum is a debit")
    L2("323-debit-with-vorigreferentienummer.xml",
       rep(s, "<iwmo:ReferentieNummer>PR2501000001</iwmo:ReferentieNummer>\n",
           "<iwmo:ReferentieNummer>PR2501000001</iwmo:ReferentieNummer>\n              <iwmo:VorigReferentieNummer>PR2412000009</iwmo:VorigReferentieNummer>\n"),
       ["CD060"], PR + "/ProductReferentie/VorigReferentieNummer", "debit Prestatie carries a VorigReferentieNummer")
    L2("323-declaratieperiode-not-month.xml", set_text(s, "iwmo:Begindatum", "2025-01-02", nth=0), ["CS340"],
       "/Bericht/Declaratie/DeclaratiePeriode/Begindatum", "DeclaratiePeriode 2025-01-02..2025-01-31 is not a whole month")
    L2("323-period-before-2021.xml", set_text(set_text(s, "iwmo:Begindatum", "2020-12-01", nth=1), "iwmo:Einddatum", "2020-12-31", nth=1),
       ["CS100"], PR + "/ProductPeriode/Begindatum", "ProductPeriode December 2020 (before 2021-01-01)")
    s2 = set_text(set_text(s, "iwmo:Begindatum", "2025-02-01", nth=1), "iwmo:Einddatum", "2025-02-28", nth=1)
    s2 = set_text(s2, "iwmo:Dagtekening", "2025-03-05")
    L2("323-productperiode-after-declaratieperiode.xml", s2, ["TR319"], PR + "/ProductPeriode",
       "ProductPeriode February 2025 in a declaration for January 2025 (header dated 2025-03-05)")
    L2("323-declaratieperiode-after-dagtekening.xml",
       set_text(set_text(s, "iwmo:Begindatum", "2025-02-01", nth=0), "iwmo:Einddatum", "2025-02-28", nth=0), ["TR137"],
       "/Bericht/Declaratie/DeclaratiePeriode/Einddatum", "DeclaratiePeriode February 2025 ends after Dagtekening 2025-02-05")
    L2("323-productperiode-einde-voor-begin.xml", set_text(set_text(s, "iwmo:Begindatum", "2025-01-31", nth=1), "iwmo:Einddatum", "2025-01-06", nth=1),
       ["TR137"], PR + "/ProductPeriode/Einddatum", "ProductPeriode Einddatum before Begindatum")
    L2("323-eenheid-04-without-tarief.xml", drop(s, "<wmo323:ProductTarief>"), ["CD087"], PR + "/ProductTarief",
       "Eenheid 04 requires a ProductTarief")
    dd = block(s, "wmo323:Prestatie").replace("PR2501000001", "PR2501000002").replace(">14<", ">2<").replace(">95900<", ">13700<")
    s3 = rep(s, "        </wmo323:Prestaties>\n", dd + "        </wmo323:Prestaties>\n")
    s3 = set_text(s3, "iwmo:TotaalBedrag", "109600")
    L2("323-duplicate-debit.xml", s3, ["TR416"], PR + "[2]",
       "two debit Prestaties for the same ProductPeriode/Categorie/Code/ToewijzingNummer in one message")
    c2 = block(s, "wmo323:Client").replace("PR2501000001", "PR2501000002").replace(">40001<", ">40002<")
    c2 = c2.replace(">02</wmo323:ProductCategorie>", ">01</wmo323:ProductCategorie>").replace(">02A01<", ">01A02<")
    s4 = set_text(rep(s, "    </wmo323:Clienten>\n", c2 + "    </wmo323:Clienten>\n"), "iwmo:TotaalBedrag", "191800")
    L2("323-duplicate-client-bsn.xml", s4, ["TR101"], "/Bericht/Declaratie/Clienten/Client[2]",
       "Client with Bsn 999990019 occurs twice in one declaration")
    old = ("    <wmo323:TotaalIngediendBedrag>\n      <iwmo:TotaalBedrag>95900</iwmo:TotaalBedrag>\n")
    s5 = s.replace("2025-02-05", "2026-03-05").replace(">2025-01-01<", ">2026-02-01<").replace(">2025-01-31<", ">2026-02-28<", 1)
    s5 = set_text(set_text(s5, "iwmo:Begindatum", "2021-01-01", nth=1), "iwmo:Einddatum", "2021-01-31", nth=1)
    assert old in s5
    L2("323-productperiode-older-than-5-years.xml", s5, ["TR335"], PR + "/ProductPeriode/Einddatum",
       "ProductPeriode January 2021 ends more than 60 months before DeclaratieDagtekening 2026-03-05")

    s = base("323b")
    L2("323-credit-without-vorigreferentienummer.xml", drop(s, "<iwmo:VorigReferentieNummer>"), ["CD060"],
       PR + "[1]/ProductReferentie/VorigReferentieNummer", "credit Prestatie without VorigReferentieNummer")
    L2("323-zero-credit.xml", set_text(set_text(set_text(s, "wmo323:GeleverdVolume", "0", nth=0), "iwmo:Bedrag", "0", nth=0),
                                       "iwmo:TotaalBedrag", "232900"),
       ["CS325"], PR + "[1]/IngediendBedrag/DebetCredit", "Bedrag 0 with DebetCredit C (zero must be D)")
    L2("323-productperiode-two-months.xml", set_text(s, "iwmo:Begindatum", "2025-01-20", nth=3), ["CS337"],
       PR + "[3]/ProductPeriode/Einddatum", "ProductPeriode 2025-01-20..2025-02-28 spans two months")
    cr = block(s, "wmo323:Prestatie", 0).replace("PR2502000001<", "PR2502000004<")
    s6 = set_text(rep(s, "        </wmo323:Prestaties>\n", cr + "        </wmo323:Prestaties>\n"), "iwmo:TotaalBedrag", "41100")
    L2("323-duplicate-vorigreferentienummer.xml", s6, ["TR315"], PR + "[4]/ProductReferentie/VorigReferentieNummer",
       "two credits with VorigReferentieNummer PR2501000001 in one message")
    L2("323-credit-same-message.xml", set_text(s, "iwmo:VorigReferentieNummer", "PR2502000002"), ["TR316"],
       PR + "[1]/ProductReferentie/VorigReferentieNummer", "credit points to debit PR2502000002 in the same message")

    s = base("323c")
    L2("323-eenheid-83-with-tarief.xml", rep(s, "<wmo323:Eenheid>83</wmo323:Eenheid>\n",
                                            "<wmo323:Eenheid>83</wmo323:Eenheid>\n            <wmo323:ProductTarief>1</wmo323:ProductTarief>\n", nth=2),
       ["CD087"], "/Bericht/Declaratie/Clienten/Client[1]/Prestaties/Prestatie[3]/ProductTarief",
       "Eenheid 83 (euro's) must not carry a ProductTarief")
    s7 = set_text(set_text(s, "iwmo:Bedrag", "19999", nth=2), "iwmo:TotaalBedrag", "131949")
    L2("323-eenheid-83-bedrag-not-volume.xml", s7, ["CS339"],
       "/Bericht/Declaratie/Clienten/Client[1]/Prestaties/Prestatie[3]/IngediendBedrag/Bedrag",
       "Eenheid 83: Bedrag 19999 != GeleverdVolume 20000 (total adjusted, so only CS339)")
    L2("323-second-client-bsn-elfproef.xml", set_text(s, "wmo323:Bsn", "999990045", nth=1), ["CS002"],
       "/Bericht/Declaratie/Clienten/Client[2]/Bsn", "second client's BSN 999990045 fails the 11-proef")


# ================================================================= 315 / 317 (VOT / VOW)
AP = "/Bericht/Client/AangevraagdeProducten/AangevraagdProduct"
VZ = "/Bericht/Client/Verzoek"
OP = VZ + "/OngewijzigdeProducten/OngewijzigdProduct"
TW = VZ + "/TeWijzigenProducten/TeWijzigenProduct"
NP = VZ + "/NieuweProducten/NieuwProduct"


def build_verzoek():
    s = base("315a")
    L1("315-missing-verwijzer.xml", rep(s, block(s, "wmo315:Verwijzer"), ""), AP + "/Verwijzer",
       "required Verwijzer removed")
    L1("315-raamcontract-3.xml", set_text(s, "wmo315:Raamcontract", "3"), AP + "/Raamcontract",
       "Raamcontract 3 (LDT_JaNee has 1 and 2)")
    L2("315-bsn-elfproef.xml", set_text(s, "wmo315:Bsn", "999990018"), ["CS002"], "/Bericht/Client/Bsn",
       "BSN 999990018 fails the 11-proef")
    L2("315-datumgebruik-inconsistent.xml",
       rep(s, "<iwmo:Datum>1948-03-12</iwmo:Datum>\n",
           "<iwmo:Datum>1948-03-12</iwmo:Datum>\n      <iwmo:DatumGebruik>1</iwmo:DatumGebruik>\n"),
       ["CS139"], "/Bericht/Client/Geboortedatum/DatumGebruik", "DatumGebruik 1 (day unknown) but the day is 12")
    L2("315-geboortedatum-over-120-years.xml", set_text(s, "iwmo:Datum", "1905-02-09"), ["TR002"],
       "/Bericht/Client/Geboortedatum/Datum", "born 1905-02-09, more than 120 years before Dagtekening 2025-02-10")
    L2("315-geboortedatum-after-dagtekening.xml", set_text(s, "iwmo:Datum", "2025-02-11"), ["TR134"],
       "/Bericht/Client/Geboortedatum/Datum", "Geboortedatum after Dagtekening 2025-02-10")
    L2("315-code-without-omvang.xml", rep(s, block(s, "wmo315:Omvang"), ""), ["CD041"], AP + "/Product/Code",
       "Product/Code filled but Omvang missing (reported at Code)")
    L2("315-verwijzer-gemeente-with-zorgverlenercode.xml",
       rep(s, "<iwmo:Naam>Wijkteam Zuid</iwmo:Naam>\n",
           "<iwmo:Naam>Wijkteam Zuid</iwmo:Naam>\n          <iwmo:ZorgverlenerCode>01234567</iwmo:ZorgverlenerCode>\n"),
       ["CD068"], AP + "/Verwijzer/ZorgverlenerCode", "Verwijzer Type 01 (gemeente) must not have a ZorgverlenerCode")
    huisarts = set_text(s, "iwmo:Type", "02")
    L2("315-verwijzer-huisarts-code-and-naam.xml",
       rep(huisarts, "<iwmo:Naam>Wijkteam Zuid</iwmo:Naam>\n",
           "<iwmo:Naam>Wijkteam Zuid</iwmo:Naam>\n          <iwmo:ZorgverlenerCode>01234567</iwmo:ZorgverlenerCode>\n"),
       ["CD066"], AP + "/Verwijzer/Naam", "Verwijzer Type 02 (huisarts) with both ZorgverlenerCode and Naam")
    L2("315-verwijzer-huisarts-without-code-or-naam.xml", drop(huisarts, "<iwmo:Naam>Wijkteam Zuid"), ["CD067"],
       AP + "/Verwijzer/Type", "Verwijzer Type 02 (huisarts) with neither ZorgverlenerCode nor Naam")
    L2("315-frequentie-week-without-einddatum.xml", drop(s, "<wmo315:ToewijzingEinddatum>"), ["CD076"],
       AP + "/Omvang/Frequentie", "2 dagdelen per week without ToewijzingEinddatum")
    L2("315-eenheid-16-frequentie-1.xml", set_text(s, "iwmo:Frequentie", "1"), ["CS343"], AP + "/Omvang/Frequentie",
       "Eenheid 16 (dagdeel) per dag is not allowed; Frequentie must be 2, 4 or 6")
    L2("315-einddatum-before-ingangsdatum.xml", set_text(s, "wmo315:ToewijzingEinddatum", "2025-02-28"), ["CS003"],
       AP + "/ToewijzingEinddatum", "ToewijzingEinddatum 2025-02-28 before ToewijzingIngangsdatum 2025-03-01")
    L2("315-omvang-and-budget.xml",
       rep(s, "        </wmo315:Omvang>\n", "        </wmo315:Omvang>\n        <wmo315:Budget>10000</wmo315:Budget>\n"),
       ["CD077", "CD078"], AP + "/Budget", "AangevraagdProduct with both Omvang and Budget")
    second = block(s, "wmo315:AangevraagdProduct").replace(">07<", ">02<").replace(">07A01<", ">02A01<")
    L2("315-duplicate-referentieaanbieder.xml",
       rep(s, "    </wmo315:AangevraagdeProducten>\n", second + "    </wmo315:AangevraagdeProducten>\n"),
       ["TR101", "TR383"], AP + "[2]", "two AangevraagdProducten with ReferentieAanbieder VOT-2025-0001")
    later = block(s, "wmo315:AangevraagdProduct").replace("VOT-2025-0001", "VOT-2025-0009").replace(
        ">2025-03-01<", ">2025-06-01<")
    L2("315-overlapping-product.xml",
       rep(s, "    </wmo315:AangevraagdeProducten>\n", later + "    </wmo315:AangevraagdeProducten>\n"),
       ["TR386"], AP + "[2]", "dagbesteding 07A01 requested twice for overlapping periods")

    s = base("315b")
    L2("315-beschikkingnummer-without-ingangsdatum.xml", drop(s, "<wmo315:BeschikkingIngangsdatum>"), ["CD043"],
       AP + "[1]/BeschikkingNummer", "BeschikkingNummer without BeschikkingIngangsdatum")
    L2("315-budget-without-einddatum.xml", drop(s, "<wmo315:ToewijzingEinddatum>"), ["CD075"], AP + "[1]/Budget",
       "aspecific request with Budget but without ToewijzingEinddatum")
    L2("315-no-product-no-budget.xml", drop(rep(s, block(s, "wmo315:Product"), ""), "<wmo315:Budget>"),
       ["CD079", "TR386"], AP + "[1]",
       "first AangevraagdProduct without Product and Budget; a generic request also overlaps 03A01 (TR386)")
    L2("315-aspecific-with-omvang.xml",
       rep(s, "        <wmo315:Budget>150000</wmo315:Budget>\n",
           "        <wmo315:Omvang>\n          <iwmo:Volume>10</iwmo:Volume>\n          <iwmo:Eenheid>04</iwmo:Eenheid>\n"
           "          <iwmo:Frequentie>4</iwmo:Frequentie>\n        </wmo315:Omvang>\n"),
       ["CD095"], AP + "[1]/Omvang", "aspecific request (no Code) after 2020 must not have an Omvang")

    s = base("317a")
    L1("317-redenverzoek-3.xml", set_text(s, "wmo317:RedenVerzoek", "3"), VZ + "/RedenVerzoek",
       "RedenVerzoek 3 does not exist")
    L1("317-missing-gewensteingangsdatum.xml", drop(s, "<wmo317:GewensteIngangsdatum>"), TW + "/GewensteIngangsdatum",
       "TeWijzigenProduct without GewensteIngangsdatum")
    L2("317-bsn-elfproef.xml", set_text(s, "wmo317:Bsn", "999990018"), ["CS002"], "/Bericht/Client/Bsn",
       "BSN 999990018 fails the 11-proef (the XSLT checks every Bsn, also in a 317)")
    L2("317-einddatum-before-gewenste.xml", set_text(s, "wmo317:Einddatum", "2025-03-31"), ["CS003"], TW + "/Einddatum",
       "Einddatum 2025-03-31 before GewensteIngangsdatum 2025-04-01")
    L2("317-budget-without-einddatum.xml",
       drop(rep(s, block(s, "wmo317:Omvang"), "          <wmo317:Budget>100000</wmo317:Budget>\n"), "<wmo317:Einddatum>"),
       ["CD075"], TW + "/Budget", "TeWijzigenProduct with Budget but without Einddatum")
    L2("317-frequentie-week-without-einddatum.xml", drop(s, "<wmo317:Einddatum>"), ["CD076"], TW + "/Omvang/Frequentie",
       "6 uur per week without Einddatum")
    L2("317-omvang-and-budget.xml",
       rep(s, "          </wmo317:Omvang>\n", "          </wmo317:Omvang>\n          <wmo317:Budget>10000</wmo317:Budget>\n"),
       ["CD077", "CD078"], TW + "/Budget", "TeWijzigenProduct with both Omvang and Budget")
    L2("317-eenheid-14-frequentie-1.xml", set_text(set_text(s, "iwmo:Eenheid", "14"), "iwmo:Frequentie", "1"), ["CS338"],
       TW + "/Omvang/Frequentie", "Eenheid 14 (etmaal) per dag is not allowed")
    again = block(s, "wmo317:TeWijzigenProduct").replace(">2025-04-01<", ">2025-07-01<")
    L2("317-duplicate-tewijzigenproduct.xml",
       rep(s, "      </wmo317:TeWijzigenProducten>\n", again + "      </wmo317:TeWijzigenProducten>\n"),
       ["TR101"], TW + "[2]", "ToewijzingNummer 40001 twice in TeWijzigenProducten")

    s = base("317b")
    L1("317-empty-nieuweproducten.xml", rep(s, block(s, "wmo317:NieuweProducten"), "      <wmo317:NieuweProducten/>\n"),
       NP, "NieuweProducten without NieuwProduct")
    L2("317-only-nieuwproduct.xml", rep(s, block(s, "wmo317:OngewijzigdeProducten"), ""), ["TR352"], VZ,
       "Verzoek without OngewijzigdProduct and TeWijzigenProduct")
    L2("317-only-ongewijzigd.xml", rep(s, block(s, "wmo317:NieuweProducten"), ""), ["TR353"], VZ,
       "Verzoek without TeWijzigenProduct and NieuwProduct: nothing to change")
    L2("317-duplicate-ongewijzigd.xml",
       rep(s, "      </wmo317:OngewijzigdeProducten>\n", block(s, "wmo317:OngewijzigdProduct") + "      </wmo317:OngewijzigdeProducten>\n"),
       ["TR101"], OP + "[2]", "ToewijzingNummer 40001 twice in OngewijzigdeProducten")
    L2("317-nieuw-code-without-omvang.xml", rep(s, block(s, "wmo317:Omvang"), ""), ["CD041"], NP + "/Product/Code",
       "NieuwProduct with Product/Code but without Omvang")
    L2("317-nieuw-no-product-no-budget.xml", rep(rep(s, block(s, "wmo317:Omvang"), ""), block(s, "wmo317:Product"), ""),
       ["CD079"], NP, "NieuwProduct without Product and without Budget")
    L2("317-nieuw-aspecific-with-omvang.xml", drop(s, "<iwmo:Code>"), ["CD096"], NP + "/Omvang",
       "NieuwProduct without Code after 2020 must not have an Omvang")
    L2("317-nieuw-gewenste-on-dagtekening.xml", set_text(s, "wmo317:GewensteIngangsdatum", "2025-03-20"), ["TR380"],
       NP + "/GewensteIngangsdatum", "GewensteIngangsdatum equal to Dagtekening 2025-03-20 (must be after it)")
    L2("317-nieuw-eenheid-83-frequentie-1.xml", set_text(s, "iwmo:Frequentie", "1"), ["CS338"], NP + "/Omvang/Frequentie",
       "Eenheid 83 (euro's) per dag is not allowed")
    later = block(s, "wmo317:NieuwProduct").replace(">2025-05-01<", ">2025-06-01<")
    L2("317-nieuw-overlapping.xml",
       rep(s, "      </wmo317:NieuweProducten>\n", later + "      </wmo317:NieuweProducten>\n"),
       ["TR410"], NP + "[2]", "HbH 01A02 requested twice as NieuwProduct for overlapping periods")


# ================================================================= checks
def schema_for(doc):
    m = NS_RE.match(etree.QName(doc.getroot()).namespace or "")
    if not m:
        return None
    name = m.group(1).upper() + ".xsd"
    if name not in _schemas:
        _schemas[name] = etree.XMLSchema(etree.parse(os.path.join(XSD_DIR, name)))
    return _schemas[name]


def parse(content):
    return etree.fromstring(content if isinstance(content, bytes) else content.encode("utf-8"),
                            etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)).getroottree()


def xsd_errors(content):
    try:
        doc = parse(content)
    except etree.XMLSyntaxError as e:
        return ["not well-formed: %s" % e], doc_none()
    sch = schema_for(doc)
    if sch is None:
        return ["no schema"], None
    if sch.validate(doc):
        return [], None
    return list(sch.error_log), doc


def doc_none():
    return None


def local_path(p):
    return re.sub(r"/[A-Za-z0-9_]+:", "/", p or "")


def candidates(err):
    """Element paths the first XSD error can be said to concern."""
    p = local_path(err.path)
    c = {p}
    msg = err.message
    exp = re.findall(r"\{[^}]*\}([A-Za-z]+)", msg.split("Expected is", 1)[1]) if "Expected is" in msg else []
    if "Missing child element" in msg:
        c |= {p + "/" + x for x in exp}
    elif "not expected" in msg:
        parent = p.rsplit("/", 1)[0]
        c |= {parent + "/" + x for x in exp}
        c.add(re.sub(r"\[\d+\]$", "", p))
    return c


def main():
    check_only = "--check-only" in sys.argv
    build_intake()
    build_level1()
    build_level2()
    build_verzoek()
    names = [f[0] for f in FIX]
    dups = {n for n in names if names.count(n) > 1}
    assert not dups, dups
    problems = []
    verdicts = {}
    if not check_only:
        for f in os.listdir(BROKEN) if os.path.isdir(BROKEN) else []:
            if f.endswith(".xml"):
                os.remove(os.path.join(BROKEN, f))
        os.makedirs(BROKEN, exist_ok=True)
    for name, content, v in FIX:
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        assert b"\r" not in data, name
        path = os.path.join(BROKEN, name)
        if not check_only:
            with open(path, "wb") as f:
                f.write(data)
        verdicts[name] = v
        if v["verdict"] == "level1":
            errs, _ = xsd_errors(data)
            if not errs:
                problems.append(f"{name}: level1 file passes the XSD")
            elif isinstance(errs[0], str):
                problems.append(f"{name}: level1 file: {errs[0]}")
            elif v["element"] not in candidates(errs[0]):
                problems.append(f"{name}: element {v['element']} but first XSD error is at {local_path(errs[0].path)}: {errs[0].message}")
        elif v["verdict"] in ("level2",) or (v["verdict"] == "valid"):
            errs, _ = xsd_errors(data)
            if errs:
                problems.append(f"{name}: should be XSD-valid: {errs[0] if isinstance(errs[0], str) else errs[0].message}")
            else:
                got = rulecheck.check(parse(data))
                want = sorted(v.get("rules", []))
                if got != want:
                    problems.append(f"{name}: rulecheck found {got}, verdict says {want}")
    vfile = {}
    for f in sorted(os.listdir(VALID)):
        if not f.endswith(".xml"):
            continue
        with open(os.path.join(VALID, f), "rb") as fh:
            data = fh.read()
        errs, _ = xsd_errors(data)
        if errs:
            problems.append(f"valid/{f}: XSD error {errs[0] if isinstance(errs[0], str) else errs[0].message}")
        elif rulecheck.check(parse(data)):
            problems.append(f"valid/{f}: rulecheck found {rulecheck.check(parse(data))}")
        if b"\r" in data:
            problems.append(f"valid/{f}: CR line ends")
        vfile[f] = {"verdict": "valid"}
    if not check_only:
        with open(os.path.join(BROKEN, "verdicts.json"), "w") as f:
            json.dump(dict(sorted(verdicts.items())), f, indent=2, ensure_ascii=False)
            f.write("\n")
        with open(os.path.join(VALID, "verdicts.json"), "w") as f:
            json.dump(vfile, f, indent=2)
            f.write("\n")
    # summary
    fam = {}
    kinds = {}
    for name, _, v in FIX:
        fam[v["verdict"]] = fam.get(v["verdict"], 0) + 1
        k = name.split("-", 1)[0]
        kinds.setdefault(k, {}).setdefault(v["verdict"], 0)
        kinds[k][v["verdict"]] += 1
    print(f"valid fixtures: {len(vfile)}")
    print(f"broken fixtures: {len(FIX)}  " + ", ".join(f"{k}={n}" for k, n in sorted(fam.items())))
    for k in sorted(kinds):
        print(f"  {k}: " + ", ".join(f"{a}={b}" for a, b in sorted(kinds[k].items())))
    unsure = [n for n, _, v in FIX if v.get("unsure")]
    if unsure:
        print("unsure: " + ", ".join(unsure))
    if problems:
        print(f"\n{len(problems)} PROBLEM(S):")
        for p in problems:
            print("  " + p)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
