#!/usr/bin/env python3
"""Generate src/message/schema/tables.rs from the official iWmo 3.2 XSDs.

usage: tools/gen-schema.py [XSD_DIR]   (default: ../shared/iwmo-3.2/xsd)

The XSDs themselves stay outside the repository (users download them from iStandaarden).
This script turns their structure (sequences, cardinalities, simple-type facets, code lists)
into static Rust tables that the level-1 validator walks. Only the constructs the iWmo 3.2
XSDs use are supported (xs:sequence, named/anonymous restrictions of xs:string/integer/date/time,
length/range/pattern/enumeration facets); anything else aborts the generation.
"""
import os
import re
import sys

from lxml import etree

XS = "{http://www.w3.org/2001/XMLSchema}"
HERE = os.path.dirname(os.path.abspath(__file__))
XSD_DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "shared", "iwmo-3.2", "xsd")
OUT = os.path.join(HERE, "..", "src", "message", "schema", "tables.rs")
MESSAGES = ["301", "302", "305", "306", "307", "308", "315", "316", "317", "318", "319", "320", "323", "325"]

# Every XSD pattern used by iWmo 3.2, mapped to a hand-written matcher (see schema/model.rs).
PATTERNS = {
    r".*[^\s].*": "Pattern::NonBlankLine",
    r"[^:Z]*": "Pattern::NoColonNoZ",
    r"[^Z+-]+": "Pattern::NoZoneSuffix",
    r"[0-9]{9}": "Pattern::Digits(9)",
    r"[0-9]{8}": "Pattern::Digits(8)",
    r"[0-9]{4}": "Pattern::Digits(4)",
    r"[0-9]*": "Pattern::DigitsAny",
    r"([a-zA-ZÀ-ỳ])+": "Pattern::Letters",
    r"([.\s]*\S+[.\s]*)+": "Pattern::HasNonSpace",
    r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)": "Pattern::Version",
    r"([a-zA-Z0-9])+": "Pattern::AlphaNum",
}


def rust_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pattern(v):
    if v in PATTERNS:
        return PATTERNS[v]
    if re.fullmatch(r"[0-9]+", v):
        return f"Pattern::Literal({rust_str(v)})"
    sys.exit(f"unsupported pattern {v!r}")


def doc_of(el):
    d = el.find(f"{XS}annotation/{XS}documentation")
    return " ".join((d.text or "").split()) if d is not None else ""


class Gen:
    def __init__(self):
        self.simple = []  # list of dicts
        self.simple_idx = {}
        self.complex = []
        self.complex_idx = {}
        self.basis = etree.parse(os.path.join(XSD_DIR, "basisschema.xsd")).getroot()
        self.basis_simple = {st.get("name"): st for st in self.basis.findall(XS + "simpleType")}
        self.basis_complex = {ct.get("name"): ct for ct in self.basis.findall(XS + "complexType")}
        self.retour_docs = []

    def facets(self, restriction):
        base = restriction.get("base")
        out = {"patterns": [], "enum": [], "min_length": None, "max_length": None, "min_incl": None, "max_incl": None}
        step = []
        for f in restriction:
            name = etree.QName(f).localname
            v = f.get("value")
            if name == "annotation":
                continue
            if name == "pattern":
                step.append(pattern(v))
            elif name == "enumeration":
                out["enum"].append(v)
            elif name == "minLength":
                out["min_length"] = int(v)
            elif name == "maxLength":
                out["max_length"] = int(v)
            elif name == "length":
                out["min_length"] = out["max_length"] = int(v)
            elif name == "minInclusive":
                out["min_incl"] = int(v)
            elif name == "maxInclusive":
                out["max_incl"] = int(v)
            else:
                sys.exit(f"unsupported facet {name}")
        if step:
            out["patterns"].append(step)
        return base, out

    def simple_type(self, key, restriction):
        """key: stable name; restriction: xs:restriction element."""
        if key in self.simple_idx:
            return self.simple_idx[key]
        base, f = self.facets(restriction)
        if base.startswith("xs:"):
            prim = {"xs:string": "Base::String", "xs:integer": "Base::Integer", "xs:date": "Base::Date", "xs:time": "Base::Time"}[base]
            merged = f
        else:
            parent_name = base.split(":", 1)[1]
            pidx = self.simple_type(parent_name, self.basis_simple[parent_name].find(XS + "restriction"))
            parent = self.simple[pidx]
            prim = parent["base"]
            merged = dict(parent)
            merged["patterns"] = parent["patterns"] + f["patterns"]
            for k in ("min_length", "max_length", "min_incl", "max_incl"):
                if f[k] is not None:
                    merged[k] = f[k]
            if f["enum"]:
                merged["enum"] = f["enum"]
        merged["base"] = prim
        merged["name"] = key
        self.simple.append(merged)
        self.simple_idx[key] = len(self.simple) - 1
        if key == "LDT_RetourCode":
            for e in restriction.findall(XS + "enumeration"):
                self.retour_docs.append((e.get("value"), doc_of(e)))
        return self.simple_idx[key]

    def type_ref(self, el, msg_ns_prefix, msg_root, ctx_name):
        t = el.get("type")
        if t is None:
            st = el.find(XS + "simpleType")
            if st is None:
                sys.exit(f"element {el.get('name')} without type")
            key = f"{ctx_name}/{el.get('name')}"
            return ("Simple", self.simple_type(key, st.find(XS + "restriction")))
        prefix, name = t.split(":", 1)
        if prefix == "iwmo":
            if name in self.basis_simple:
                return ("Simple", self.simple_type(name, self.basis_simple[name].find(XS + "restriction")))
            return ("Complex", self.complex_type("iwmo:" + name, self.basis_complex[name], "Ns::Basis", None, None))
        # message-local complex type
        ct = msg_root.find(f"{XS}complexType[@name='{name}']")
        if ct is None:
            sys.exit(f"unknown type {t}")
        return ("Complex", self.complex_type(f"{prefix}:{name}", ct, "Ns::Message", msg_ns_prefix, msg_root))

    def complex_type(self, key, ct, ns, msg_prefix, msg_root):
        if key in self.complex_idx:
            return self.complex_idx[key]
        self.complex_idx[key] = len(self.complex)
        entry = {"name": key, "elements": []}
        self.complex.append(entry)
        children = [c for c in ct if etree.QName(c).localname != "annotation"]
        if len(children) != 1 or etree.QName(children[0]).localname != "sequence" or ct.get("mixed") == "true":
            sys.exit(f"unsupported complexType {key}")
        for el in children[0]:
            if etree.QName(el).localname == "annotation":
                continue
            if etree.QName(el).localname != "element":
                sys.exit(f"unsupported particle in {key}")
            mn = int(el.get("minOccurs", "1"))
            mx = el.get("maxOccurs", "1")
            mx = "u32::MAX" if mx == "unbounded" else str(int(mx))
            if msg_root is None:
                ref = self.type_ref(el, None, None, key)
            else:
                ref = self.type_ref(el, msg_prefix, msg_root, key)
            entry["elements"].append((el.get("name"), ns, mn, mx, ref))
        return self.complex_idx[key]


def opt(v, t="u32"):
    return "None" if v is None else f"Some({v})"


def main():
    g = Gen()
    g.simple_type("LDT_RetourCode", g.basis_simple["LDT_RetourCode"].find(XS + "restriction"))
    appinfo = {}
    msgs = []
    for m in MESSAGES:
        root = etree.parse(os.path.join(XSD_DIR, f"WMO{m}.xsd")).getroot()
        ai = root.find(f"{XS}annotation/{XS}appinfo")
        info = {etree.QName(x).localname: x.text for x in ai}
        bericht = root.find(f"{XS}element[@name='Bericht']")
        prefix, tname = bericht.get("type").split(":")
        ct = root.find(f"{XS}complexType[@name='{tname}']")
        idx = g.complex_type(f"wmo{m}:{tname}", ct, "Ns::Message", prefix, root)
        msgs.append((m, idx, info.get("BerichtXsdVersie"), info.get("BasisschemaXsdVersie")))
    lines = []
    w = lines.append
    w("// @generated by tools/gen-schema.py from the official iWmo 3.2 XSDs. Do not edit by hand:")
    w("// change the generator and run `python3 tools/gen-schema.py`.")
    w("#![allow(clippy::all)]")
    w("use super::model::*;")
    w("")
    w(f"pub static SIMPLE_TYPES: [SimpleType; {len(g.simple)}] = [")
    for s in g.simple:
        pats = ", ".join("&[" + ", ".join(step) + "]" for step in s["patterns"])
        enum = ", ".join(rust_str(e) for e in s["enum"])
        w(f"    SimpleType {{ name: {rust_str(s['name'])}, base: {s['base']}, min_length: {opt(s['min_length'])}, "
          f"max_length: {opt(s['max_length'])}, min_inclusive: {opt(s['min_incl'])}, max_inclusive: {opt(s['max_incl'])}, "
          f"patterns: &[{pats}], enumeration: &[{enum}] }},")
    w("];")
    w("")
    w(f"pub static COMPLEX_TYPES: [ComplexType; {len(g.complex)}] = [")
    for c in g.complex:
        w(f"    ComplexType {{ name: {rust_str(c['name'])}, elements: &[")
        for (name, ns, mn, mx, (kind, i)) in c["elements"]:
            w(f"        ElementDecl {{ name: {rust_str(name)}, ns: {ns}, min: {mn}, max: {mx}, ty: TypeRef::{kind}({i}) }},")
        w("    ] },")
    w("];")
    w("")
    w(f"pub static MESSAGE_SCHEMAS: [MessageSchema; {len(msgs)}] = [")
    for (m, idx, bv, bsv) in msgs:
        w(f"    MessageSchema {{ number: {m}, root_type: {idx}, bericht_xsd_versie: {rust_str(bv)}, basisschema_xsd_versie: {rust_str(bsv)} }},")
    w("];")
    w("")
    w(f"/// The {len(g.retour_docs)} values of LDT_RetourCode with the XSD's own Dutch description.")
    w(f"pub static RETOUR_CODE_DOCS: [(&str, &str); {len(g.retour_docs)}] = [")
    for v, d in g.retour_docs:
        w(f"    ({rust_str(v)}, {rust_str(d)}),")
    w("];")
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print(f"{OUT}: {len(g.simple)} simple types, {len(g.complex)} complex types, {len(msgs)} messages, {len(g.retour_docs)} retour codes")


if __name__ == "__main__":
    main()
