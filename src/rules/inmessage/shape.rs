//! The rules on the shape of a (requested) toewijzing, shared by the 301 ToegewezenProduct, the
//! 315 AangevraagdProduct and the 317 TeWijzigenProduct / NieuwProduct: CD041, CD075–CD079,
//! CD080/CD095/CD096 (the same rule for each message), CS003 on the product period, CS338/CS343
//! (idem), and the "same product, overlapping period" test of TR302/TR386/TR410.
//!
//! Each function is called at the element the XSLT attaches the rule to, so the caller keeps the
//! XSLT's post-order; the texts and locations are identical for every message.

use chrono::NaiveDate;

use super::shared::{child, dnum, ymd, Findings};
use crate::domain::{Bedrag, Eenheid, Frequentie};
use crate::message::common::{Omvang, Product};

/// The parts of a product class the shape rules look at.
pub struct Shape<'a> {
    /// Path of the class, e.g. `/Bericht/Client/AangevraagdeProducten/AangevraagdProduct[2]`.
    pub path: &'a str,
    /// How the class is named in the texts, e.g. "ToewijzingNummer 40001".
    pub label: &'a str,
    pub product: Option<&'a Product>,
    /// (element name, value) of the period's begin: Ingangsdatum, ToewijzingIngangsdatum or
    /// GewensteIngangsdatum.
    pub begin: (&'static str, NaiveDate),
    /// (element name, value) of the period's end: Einddatum or ToewijzingEinddatum.
    pub eind: (&'static str, Option<NaiveDate>),
    pub omvang: Option<&'a Omvang>,
    pub budget: Option<Bedrag>,
}

impl Shape<'_> {
    fn p(&self, name: &str) -> String {
        child(self.path, name)
    }

    fn code_filled(&self) -> bool {
        self.product.and_then(|p| p.code.as_ref()).is_some()
    }

    /// The Omvang rules apply only to periods without an end or ending after 2020.
    fn after_2020(&self) -> bool {
        self.eind.1.is_none_or(|e| dnum(e) > 20201231)
    }

    /// The end element, for rules that list it when it exists.
    fn eind_location(&self) -> Option<String> {
        self.eind.1.map(|_| self.p(self.eind.0))
    }
}

/// CS003 at the end element: the end may not lie before the begin.
pub fn cs003(out: &mut Findings, s: &Shape<'_>) {
    let Some(eind) = s.eind.1 else { return };
    let (begin_name, begin) = s.begin;
    if dnum(begin) > dnum(eind) {
        out.add(
            "CS003",
            vec![s.p(begin_name), s.p(s.eind.0)],
            format!(
                "{}: {begin_name} {}, {} {}",
                s.label,
                ymd(begin),
                s.eind.0,
                ymd(eind)
            ),
        );
    }
}

/// The rules at `Omvang` and its children, in XSLT order: `units_rule` (CS338 in 301/317, CS343
/// in 315) at Eenheid, CD076 at Frequentie, then CD078 and `code_rule` (CD080 in 301, CD095 in
/// 315, CD096 for a NieuwProduct, none for a TeWijzigenProduct) at Omvang.
pub fn omvang(
    out: &mut Findings,
    s: &Shape<'_>,
    units_rule: &'static str,
    code_rule: Option<&'static str>,
) {
    let Some(o) = s.omvang else { return };
    let omvang = s.p("Omvang");
    let per_unit = matches!(
        o.eenheid,
        Eenheid::Etmaal | Eenheid::Dagdeel | Eenheid::Euro | Eenheid::StuksInspanning
    );
    let freq_ok = matches!(
        o.frequentie,
        Frequentie::PerWeek | Frequentie::PerMaand | Frequentie::TotaalBinnenGeldigheidsduur
    );
    if s.after_2020() && per_unit && !freq_ok {
        let mut locations: Vec<String> = s.eind_location().into_iter().collect();
        locations.push(child(&omvang, "Eenheid"));
        locations.push(child(&omvang, "Frequentie"));
        out.add(
            units_rule,
            locations,
            format!(
                "{}: Eenheid {}, Frequentie {}",
                s.label, o.eenheid, o.frequentie
            ),
        );
    }
    if o.frequentie == Frequentie::PerWeek && s.eind.1.is_none() {
        out.add("CD076", vec![child(&omvang, "Frequentie")], s.label);
    }
    if s.budget.is_some() {
        out.add("CD078", vec![omvang.clone(), s.p("Budget")], s.label);
    }
    if let Some(rule) = code_rule {
        if s.after_2020() && !s.code_filled() {
            let mut locations: Vec<String> = s.eind_location().into_iter().collect();
            locations.push(omvang);
            out.add(rule, locations, s.label);
        }
    }
}

/// The rules at `Budget`: CD075 (an end is required) and CD077 (no Omvang).
pub fn budget(out: &mut Findings, s: &Shape<'_>) {
    if s.budget.is_none() {
        return;
    }
    if s.eind.1.is_none() {
        out.add("CD075", vec![s.p("Budget")], s.label);
    }
    if s.omvang.is_some() {
        out.add("CD077", vec![s.p("Omvang"), s.p("Budget")], s.label);
    }
}

/// CD041 at the class: a filled Product/Code requires an Omvang.
pub fn cd041(out: &mut Findings, s: &Shape<'_>) {
    if s.code_filled() && s.omvang.is_none() {
        out.add("CD041", vec![child(&s.p("Product"), "Code")], s.label);
    }
}

/// CD079 at the class: without Budget a Product is required.
pub fn cd079(out: &mut Findings, s: &Shape<'_>) {
    if s.budget.is_none() && s.product.is_none() {
        out.add("CD079", vec![s.path.to_string()], s.label);
    }
}

/// A product with its period, for the "same product, overlapping period" rules.
#[derive(Clone, Copy)]
pub struct Span<'a> {
    pub product: Option<&'a Product>,
    pub begin: NaiveDate,
    pub eind: Option<NaiveDate>,
}

impl Span<'_> {
    fn hulpmiddel(&self) -> bool {
        self.product.is_some_and(|p| p.categorie.is_hulpmiddel())
    }

    /// `2025-01-06 t/m 2025-12-31`, or `2025-01-06` for an open end.
    pub fn periode_text(&self) -> String {
        match self.eind {
            Some(e) => format!("{} t/m {}", ymd(self.begin), ymd(e)),
            None => ymd(self.begin),
        }
    }
}

/// "The same product" as the XSLT defines it for TR302/TR386/TR410 (on element presence and
/// value): (a) same Categorie and same Code, (b) same Categorie and one of them without Code, or
/// (c) one of them generic (neither Categorie nor Code), which overlaps anything.
fn same_product(a: Option<&Product>, b: Option<&Product>) -> bool {
    let (ac, bc) = (
        a.and_then(|p| p.code.as_ref()),
        b.and_then(|p| p.code.as_ref()),
    );
    let (ak, bk) = (a.map(|p| p.categorie), b.map(|p| p.categorie));
    let cat_equal = ak.is_some() && ak == bk;
    let codes_equal = ac.is_some() && ac == bc;
    let specific = cat_equal && (codes_equal || ac.is_none() || bc.is_none());
    let generic = (ac.is_none() && ak.is_none()) || (bc.is_none() && bk.is_none());
    specific || generic
}

/// Inclusive overlap of the two periods, a missing end being open.
fn overlap(a: &Span<'_>, b: &Span<'_>) -> bool {
    let (a0, b0) = (dnum(a.begin), dnum(b.begin));
    match (a.eind.map(dnum), b.eind.map(dnum)) {
        (Some(a1), Some(b1)) => !(a1 < b0 || b1 < a0),
        (Some(a1), None) => a1 >= b0,
        (None, Some(b1)) => b1 >= a0,
        (None, None) => true,
    }
}

/// The same product for overlapping periods, hulpmiddelen (categories 11–14) excepted.
pub fn stacked(a: &Span<'_>, b: &Span<'_>) -> bool {
    !a.hulpmiddel() && !b.hulpmiddel() && same_product(a.product, b.product) && overlap(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ProductCategorie;
    use crate::message::common::ProductCode;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn prod(cat: ProductCategorie, code: Option<&str>) -> Product {
        Product {
            categorie: cat,
            code: code.map(|c| ProductCode::parse(c).expect("code")),
        }
    }

    #[test]
    fn stacking_follows_the_xslt() {
        let begeleiding = prod(ProductCategorie::Begeleiding, Some("02A01"));
        let other_code = prod(ProductCategorie::Begeleiding, Some("02A02"));
        let aspecific = prod(ProductCategorie::Begeleiding, None);
        let rolstoel = prod(ProductCategorie::Rolstoelen, Some("11A01"));
        fn span<'a>(p: Option<&'a Product>, b: &str, e: Option<&str>) -> Span<'a> {
            Span {
                product: p,
                begin: d(b),
                eind: e.map(d),
            }
        }
        let a = span(Some(&begeleiding), "2025-01-01", Some("2025-06-30"));
        assert!(stacked(&a, &span(Some(&begeleiding), "2025-06-30", None)));
        assert!(!stacked(&a, &span(Some(&begeleiding), "2025-07-01", None)));
        assert!(!stacked(&a, &span(Some(&other_code), "2025-02-01", None)));
        assert!(stacked(&a, &span(Some(&aspecific), "2025-02-01", None)));
        assert!(stacked(&a, &span(None, "2024-01-01", Some("2025-01-01"))));
        assert!(!stacked(
            &span(Some(&rolstoel), "2025-01-01", None),
            &span(Some(&rolstoel), "2025-01-01", None)
        ));
        assert!(!stacked(
            &span(None, "2025-01-01", None),
            &span(Some(&rolstoel), "2025-01-01", None)
        ));
    }
}
