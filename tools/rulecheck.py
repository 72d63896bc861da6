"""Small re-implementation of the in-message (level-2) rules of the official iWmo 3.2 rule XSLT
(XSLTVersie 2.10.5), used by make-fixtures.py as a cross-check of the fixture corpus.

It only covers the rules that can fire on 301/305/307/315/317/323/325 messages and follows the XSLT's own
logic (including its quirks), not the informatiemodel prose. It is a test aid, not the product's
implementation. `check(tree)` returns a sorted list of rule ids that fire.
"""
import datetime
import re

BASIS = "http://www.istandaarden.nl/iwmo/3_2/basisschema/schema"


def ln(el):
    return el.tag.split("}", 1)[1] if "}" in el.tag else el.tag


def kids(el, name):
    return [c for c in el if isinstance(c.tag, str) and ln(c) == name]


def kid(el, *names):
    cur = el
    for n in names:
        if cur is None:
            return None
        found = kids(cur, n)
        cur = found[0] if found else None
    return cur


def txt(el, *names):
    e = kid(el, *names) if names else el
    if e is None:
        return None
    return (e.text or "")


def filled(el, *names):
    t = txt(el, *names)
    return t is not None and t.strip() != ""


def dnum(s):
    return int(s.replace("-", "")[:8])


def walk(root):
    return [e for e in root.iter() if isinstance(e.tag, str)]


def elfproef(s):
    if not re.fullmatch(r"[0-9]{9}", s or ""):
        return True
    d = [int(c) for c in s]
    return (sum((9 - i) * d[i] for i in range(8)) - d[8]) % 11 == 0


def add_months_trunc(date_s, months):
    y, m, d = (int(x) for x in date_s.split("-"))
    m0 = y * 12 + (m - 1) + months
    y, m = divmod(m0, 12)
    m += 1
    import calendar
    d = min(d, calendar.monthrange(y, m)[1])
    return y * 10000 + m * 100 + d


def msgkind(root):
    return root.tag.split("}", 1)[0].rsplit("/", 2)[-2] if "}" in root.tag else ""


def check(tree):
    root = tree.getroot() if hasattr(tree, "getroot") else tree
    kind = msgkind(root)  # e.g. 'wmo305'
    errs = set()
    hdr = kid(root, "Header")
    dag = txt(hdr, "BerichtIdentificatie", "Dagtekening") if hdr is not None else None
    els = walk(root)

    # ---------- generic (basisschema) rules
    for e in els:
        n = ln(e)
        if n == "Bsn" and not elfproef(e.text or ""):
            errs.add("CS002")
        if n == "Geboortedatum" and kid(e, "Datum") is not None:
            d, g = txt(e, "Datum"), txt(e, "DatumGebruik")
            if g == "3" and d != "1900-01-01":
                errs.add("CS139")
            elif g == "2" and d[5:] != "01-01":
                errs.add("CS139")
            elif g == "1" and d[8:] != "01":
                errs.add("CS139")
            if not (g == "3" and d == "1900-01-01") and dag:
                if dnum(d) + 1200000 < dnum(dag):
                    errs.add("TR002")
        if n == "NaamGebruik":
            p = e.getparent()
            if kid(p, "Partnernaam") is not None:
                if (e.text or "").strip() not in ("1", "2", "3", "4"):
                    errs.add("CS050")
            elif (e.text or "").strip() != "1":
                errs.add("CS050")
        if n in ("Postcode", "LandCode") and e.tag.startswith("{" + BASIS):
            other = "LandCode" if n == "Postcode" else "Postcode"
            if filled(e) and not filled(e.getparent(), other):
                errs.add("CD005")
        if n == "LandCode" and (e.text or "").strip() == "NL":
            p = e.getparent()
            if not filled(p, "Huis", "Huisnummer"):
                errs.add("CD025")
            pc = txt(p, "Postcode") or ""
            if not re.fullmatch(r"[1-9][0-9]{3}[A-Za-z]{2}", pc):
                errs.add("CS089")
        if kid(e, "Vorm") is not None or kid(e, "Taal") is not None:
            if filled(e, "Taal") != ((txt(e, "Vorm") or "").strip() == "1"):
                errs.add("CD007")
        if n in ("TotaalIngediendBedrag", "IngediendBedrag", "TotaalToegekendBedrag"):
            amt = txt(e, "TotaalBedrag") if n != "IngediendBedrag" else txt(e, "Bedrag")
            if amt is not None and amt.strip().lstrip("0") == "" and (txt(e, "DebetCredit") or "").strip() in ("C", "c"):
                errs.add("CS325")

    # ---------- TR101 generic: duplicate keys among siblings
    def dup(elems, keyf):
        seen = set()
        for x in elems:
            k = keyf(x)
            if k in seen:
                return True
            seen.add(k)
        return False

    def k_start(x):
        return (txt(x, "Begindatum"), txt(x, "Product", "Categorie"), txt(x, "Product", "Code"), txt(x, "ToewijzingNummer"))

    def k_stop(x):
        return k_start(x) + (txt(x, "Einddatum"), txt(x, "RedenBeeindiging"))

    def k_prest(x):
        return (txt(x, "ProductReferentie", "ReferentieNummer"), txt(x, "ProductReferentie", "VorigReferentieNummer"))

    for e in els:
        n = ln(e)
        groups = []
        if n == "Clienten" or (e is root):
            groups.append((kids(e, "Client"), lambda x: txt(x, "Bsn")))
        if n == "Contactgegevens":
            groups.append((kids(e, "Contact"), lambda x: txt(x, "Soort")))
        if n == "Relaties":
            groups.append((kids(e, "Relatie"), lambda x: txt(x, "Nummer")))
        if n == "ToegewezenProducten":
            groups.append((kids(e, "ToegewezenProduct"), lambda x: txt(x, "ToewijzingNummer")))
        if n == "StartProducten":
            groups.append((kids(e, "StartProduct"), k_start))
        if n == "StopProducten":
            groups.append((kids(e, "StopProduct"), k_stop))
        if n == "Prestaties":
            groups.append((kids(e, "Prestatie"), k_prest))
        if n == "AangevraagdeProducten":
            groups.append((kids(e, "AangevraagdProduct"), lambda x: txt(x, "ReferentieAanbieder")))
        if n == "OngewijzigdeProducten":
            groups.append((kids(e, "OngewijzigdProduct"), lambda x: txt(x, "ToewijzingNummer")))
        if n == "TeWijzigenProducten":
            groups.append((kids(e, "TeWijzigenProduct"), lambda x: txt(x, "ToewijzingNummer")))
        if n == "NieuweProducten":
            groups.append((kids(e, "NieuwProduct"),
                           lambda x: (txt(x, "GewensteIngangsdatum"), txt(x, "Product", "Categorie"), txt(x, "Product", "Code"))))
        for elems, kf in groups:
            if dup(elems, kf):
                errs.add("TR101")

    def le_dag(d):
        return d is not None and dag is not None and dnum(d) <= dnum(dag)

    # ---------- 301
    if kind == "wmo301":
        cl = kid(root, "Client")
        rels = kid(cl, "Relaties")
        rel_list = kids(rels, "Relatie") if rels is not None else []
        for d in [txt(cl, "Geboortedatum", "Datum")] + [txt(r, "Geboortedatum", "Datum") for r in rel_list]:
            if d is not None and not le_dag(d):
                errs.add("TR134")
        contacts = [e for e in els if ln(e) == "Contact"]
        for c in contacts:
            if kid(c, "Periode") is not None and (txt(c, "Soort") or "").strip() != "04":
                errs.add("CD009")
            if (txt(c, "Soort") or "").strip() in ("01", "03") and not filled(c, "Adres", "Postcode"):
                errs.add("CD034")
            tel = kid(c, "Telefoon") is not None
            if not (tel or kid(c, "Adres", "Huis") is not None) or not (tel or kid(c, "Adres", "Postcode") is not None):
                errs.add("TR006")
            per = kid(c, "Periode")
            if per is not None and kid(per, "Einddatum") is not None:
                b = txt(per, "Begindatum")
                if b is None or dnum(b) > dnum(txt(per, "Einddatum")):
                    errs.add("CS003")
        cg = kid(cl, "Contactgegevens")
        if cg is not None and not any((txt(c, "Soort") or "") in ("01", "02", "03") for c in kids(cg, "Contact")):
            errs.add("TR061")
        tps = kids(kid(cl, "ToegewezenProducten"), "ToegewezenProduct") if kid(cl, "ToegewezenProducten") is not None else []
        for tp in tps:
            code_f = filled(tp, "Product", "Code")
            omv = kid(tp, "Omvang")
            bud = filled(tp, "Budget")
            eind = txt(tp, "Einddatum")
            ing = txt(tp, "Ingangsdatum")
            if not le_dag(txt(tp, "Toewijzingsdatum")):
                errs.add("TR134")
            if code_f and omv is None:
                errs.add("CD041")
            if bud and not (eind and eind.strip()):
                errs.add("CD075")
            if omv is not None and (txt(omv, "Frequentie") or "").strip() == "2" and not (eind and eind.strip()):
                errs.add("CD076")
            if bud and omv is not None:
                errs.add("CD077")
            if omv is not None and kid(tp, "Budget") is not None:
                errs.add("CD078")
            if not bud and kid(tp, "Product") is None:
                errs.add("CD079")
            late = eind is None or dnum(eind) > 20201231
            if omv is not None and late and not code_f:
                errs.add("CD080")
            if eind is not None and (ing is None or dnum(ing) > dnum(eind)):
                errs.add("CS003")
            rw = (txt(tp, "RedenWijziging") or "").strip()
            if rw == "13" and eind is not None and ing is not None and ing != eind:
                errs.add("CS335")
            if rw == "01":
                errs.add("CS336")
            if omv is not None and late and (txt(omv, "Eenheid") or "") in ("14", "16", "83", "84") \
                    and (txt(omv, "Frequentie") or "") not in ("2", "4", "6"):
                errs.add("CS338")

        def ignored(tp):
            rw = (txt(tp, "RedenWijziging") or "").strip()
            e = txt(tp, "Einddatum")
            return rw in ("01", "13") and e and e.strip() and dnum(txt(tp, "Ingangsdatum")) == dnum(e)

        def overlap(a, b):
            a0, a1, b0, b1 = txt(a, "Ingangsdatum"), txt(a, "Einddatum"), txt(b, "Ingangsdatum"), txt(b, "Einddatum")
            if a1 and b1:
                return not (dnum(a1) < dnum(b0) or dnum(b1) < dnum(a0))
            if a1 and not b1:
                return dnum(a1) >= dnum(b0)
            if b1 and not a1:
                return dnum(b1) >= dnum(a0)
            return True

        for i, a in enumerate(tps):
            if ignored(a):
                continue
            for b in tps[:i]:
                if ignored(b):
                    continue
                ac, bc = txt(a, "Product", "Code"), txt(b, "Product", "Code")
                ak, bk = txt(a, "Product", "Categorie"), txt(b, "Product", "Categorie")
                same = ((ac and bc and ac == bc) and (ak and bk and ak == bk)) \
                    or ((not ac or not bc) and (ak and bk and ak == bk)) \
                    or ((not ac and not ak) or (not bc and not bk))
                if same and (ak or "").strip() not in ("11", "12", "13", "14") \
                        and (bk or "").strip() not in ("11", "12", "13", "14") and overlap(a, b):
                    errs.add("TR302")

    # ---------- 315 / 317
    if kind == "wmo315":
        check_315(root, dag, errs)
    if kind == "wmo317":
        check_317(root, dag, errs)

    # ---------- 305 / 307
    if kind in ("wmo305", "wmo307"):
        cl = kid(root, "Client")
        d = txt(cl, "Geboortedatum", "Datum")
        if d is not None and not le_dag(d):
            errs.add("TR134")
        prods = [e for e in els if ln(e) in ("StartProduct", "StopProduct")]
        for p in prods:
            if (txt(p, "StatusAanlevering") or "").strip() not in ("1", "3"):
                errs.add("CS058")
            if kind == "wmo305" and not le_dag(txt(p, "Begindatum")):
                errs.add("TR134")
            if kind == "wmo307":
                if not le_dag(txt(p, "Einddatum")):
                    errs.add("TR134")
                if dnum(txt(p, "Begindatum")) > dnum(txt(p, "Einddatum")):
                    errs.add("TR018")

    # ---------- 323 / 325 Prestaties
    if kind in ("wmo323", "wmo325"):
        decl = kid(root, "Declaratie") if kind == "wmo323" else kid(root, "DeclaratieAntwoord")
        prests = [e for e in els if ln(e) == "Prestatie"]
        for p in prests:
            dc = (txt(p, "IngediendBedrag", "DebetCredit") or "").strip()
            if (dc == "C") != filled(p, "ProductReferentie", "VorigReferentieNummer"):
                errs.add("CD060")
            pb, pe = txt(p, "ProductPeriode", "Begindatum"), txt(p, "ProductPeriode", "Einddatum")
            if not le_dag(pb):
                errs.add("TR134")
            if dnum(pe) < dnum(pb) or not le_dag(pe):
                errs.add("TR137")
        if kind == "wmo323":
            dp = kid(decl, "DeclaratiePeriode")
            db, de = txt(dp, "Begindatum"), txt(dp, "Einddatum")
            if dnum(db) < 20210101:
                errs.add("CS100")
            if not le_dag(db):
                errs.add("TR134")
            if dnum(de) < dnum(db) or not le_dag(de):
                errs.add("TR137")
            # CS340: begins on the 1st and Einddatum+1 == Begindatum + 1 month
            try:
                b = datetime.date.fromisoformat(db)
                e = datetime.date.fromisoformat(de)
                nxt = datetime.date(b.year + (b.month // 12), b.month % 12 + 1, b.day) if b.day <= 28 else None
                if b.day != 1 or nxt is None or e + datetime.timedelta(days=1) != nxt:
                    errs.add("CS340")
            except ValueError:
                errs.add("CS340")
            ddag = txt(decl, "DeclaratieDagtekening")
            refs, vorigs = [], []
            debits = []
            tot = 0
            for p in prests:
                pb, pe = txt(p, "ProductPeriode", "Begindatum"), txt(p, "ProductPeriode", "Einddatum")
                if dnum(pb) < 20210101:
                    errs.add("CS100")
                if pb[:7] != pe[:7]:
                    errs.add("CS337")
                eenh = (txt(p, "Eenheid") or "").strip()
                bedrag = int(txt(p, "IngediendBedrag", "Bedrag"))
                if eenh == "83" and int(txt(p, "GeleverdVolume")) != bedrag:
                    errs.add("CS339")
                if (eenh != "83") != filled(p, "ProductTarief"):
                    errs.add("CD087")
                if dnum(pb) > dnum(de) or dnum(pe) > dnum(de):
                    errs.add("TR319")
                if dnum(pe) < add_months_trunc(ddag, -60):
                    errs.add("TR335")
                ref = (txt(p, "ProductReferentie", "ReferentieNummer") or "").strip()
                vor = txt(p, "ProductReferentie", "VorigReferentieNummer")
                vor = vor.strip() if vor is not None else None
                if vor is not None and vor in vorigs:
                    errs.add("TR315")
                if (vor is not None and vor in refs) or ref in vorigs or (vor is not None and vor == ref):
                    errs.add("TR316")
                refs.append(ref)
                if vor is not None:
                    vorigs.append(vor)
                dc = (txt(p, "IngediendBedrag", "DebetCredit") or "").strip()
                tot += bedrag if dc == "D" else -bedrag
                if dc == "D":
                    key = (pb, pe, txt(p, "ProductCategorie"), txt(p, "ToewijzingNummer"), txt(p, "ProductCode"), id(p.getparent()))
                    if key in debits:
                        errs.add("TR416")
                    debits.append(key)
            t = kid(decl, "TotaalIngediendBedrag")
            tdc = (txt(t, "DebetCredit") or "").strip()
            tv = int(txt(t, "TotaalBedrag"))
            if (tdc == "D" and tv != tot) or (tdc == "C" and tv != -tot):
                errs.add("TR358")
        if kind == "wmo325" and decl is not None:
            s = 0
            for p in prests:
                b = int(txt(p, "IngediendBedrag", "Bedrag"))
                s += b if txt(p, "IngediendBedrag", "DebetCredit") == "D" else -b

            def signed(x):
                v = int(txt(x, "TotaalBedrag"))
                return -v if txt(x, "DebetCredit") == "C" else v
            codes = [c.text for c in kids(kid(decl, "RetourCodes"), "RetourCode")]
            if all(c in ("0200", "8001") for c in codes):
                if s != signed(kid(decl, "TotaalIngediendBedrag")) - signed(kid(decl, "TotaalToegekendBedrag")):
                    errs.add("TR342")
            elif signed(kid(decl, "TotaalToegekendBedrag")) != 0:
                errs.add("TR342")
    return sorted(errs)


# ---------- 315 / 317 (module level; the 301 rules above are inline)
HULP = ("11", "12", "13", "14")


def _late(eind):
    return eind is None or dnum(eind) > 20201231


def _shape(p, ing_name, eind_name, errs, units_rule, code_rule, has_product):
    """CD041/CD075-CD079, CS003, CS338/CS343 and CD095/CD096 on one product class."""
    code_f = filled(p, "Product", "Code")
    omv = kid(p, "Omvang")
    bud = filled(p, "Budget")
    eind, ing = txt(p, eind_name), txt(p, ing_name)
    if eind is not None and dnum(ing) > dnum(eind):
        errs.add("CS003")
    if omv is not None:
        if _late(eind) and (txt(omv, "Eenheid") or "") in ("14", "16", "83", "84") \
                and (txt(omv, "Frequentie") or "") not in ("2", "4", "6"):
            errs.add(units_rule)
        if (txt(omv, "Frequentie") or "").strip() == "2" and eind is None:
            errs.add("CD076")
        if kid(p, "Budget") is not None:
            errs.add("CD078")
        if code_rule and _late(eind) and not code_f:
            errs.add(code_rule)
    if bud and eind is None:
        errs.add("CD075")
    if bud and omv is not None:
        errs.add("CD077")
    if has_product:
        if code_f and omv is None:
            errs.add("CD041")
        if not bud and kid(p, "Product") is None:
            errs.add("CD079")


def _stacked(a, b, ing_name, eind_name):
    ac, bc = txt(a, "Product", "Code"), txt(b, "Product", "Code")
    ak, bk = txt(a, "Product", "Categorie"), txt(b, "Product", "Categorie")
    same = ((ac and bc and ac == bc) and (ak and bk and ak == bk)) \
        or ((not ac or not bc) and (ak and bk and ak == bk)) \
        or ((not ac and not ak) or (not bc and not bk))
    if not same or (ak or "").strip() in HULP or (bk or "").strip() in HULP:
        return False
    a0, a1, b0, b1 = txt(a, ing_name), txt(a, eind_name), txt(b, ing_name), txt(b, eind_name)
    if a1 and b1:
        return not (dnum(a1) < dnum(b0) or dnum(b1) < dnum(a0))
    if a1:
        return dnum(a1) >= dnum(b0)
    if b1:
        return dnum(b1) >= dnum(a0)
    return True


def check_315(root, dag, errs):
    cl = kid(root, "Client")
    d = txt(cl, "Geboortedatum", "Datum")
    if d is not None and dag is not None and dnum(d) > dnum(dag):
        errs.add("TR134")
    aps = kids(kid(cl, "AangevraagdeProducten"), "AangevraagdProduct")
    for i, ap in enumerate(aps):
        _shape(ap, "ToewijzingIngangsdatum", "ToewijzingEinddatum", errs, "CS343", "CD095", True)
        if filled(ap, "BeschikkingNummer") != filled(ap, "BeschikkingIngangsdatum"):
            errs.add("CD043")
        v = kid(ap, "Verwijzer")
        zorg = (txt(v, "Type") or "").strip() in ("02", "03", "04", "05")
        code, naam = filled(v, "ZorgverlenerCode"), filled(v, "Naam")
        if zorg and code and naam:
            errs.add("CD066")
        if zorg and not code and not naam:
            errs.add("CD067")
        if not zorg and code:
            errs.add("CD068")
        ref = (txt(ap, "ReferentieAanbieder") or "").strip()
        for b in aps[:i]:
            if txt(b, "ReferentieAanbieder") == ref:
                errs.add("TR383")
            if _stacked(b, ap, "ToewijzingIngangsdatum", "ToewijzingEinddatum"):
                errs.add("TR386")


def check_317(root, dag, errs):
    vz = kid(root, "Client", "Verzoek")
    ong = [e for e in vz.iter() if isinstance(e.tag, str) and ln(e) == "OngewijzigdProduct"]
    tws = [e for e in vz.iter() if isinstance(e.tag, str) and ln(e) == "TeWijzigenProduct"]
    nps = [e for e in vz.iter() if isinstance(e.tag, str) and ln(e) == "NieuwProduct"]
    if not ong and not tws:
        errs.add("TR352")
    if not tws and not nps:
        errs.add("TR353")
    for t in tws:
        _shape(t, "GewensteIngangsdatum", "Einddatum", errs, "CS338", None, False)
    for i, n in enumerate(nps):
        _shape(n, "GewensteIngangsdatum", "Einddatum", errs, "CS338", "CD096", True)
        if dag is None or dnum(dag) >= dnum(txt(n, "GewensteIngangsdatum")):
            errs.add("TR380")
        for b in nps[:i]:
            if _stacked(b, n, "GewensteIngangsdatum", "Einddatum"):
                errs.add("TR410")
