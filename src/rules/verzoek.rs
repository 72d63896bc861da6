//! Level-3/4 rules for WMO315 (verzoek om toewijzing, VOT) and WMO317 (verzoek om wijziging,
//! VOW): the checks that need stored toewijzingen and earlier verzoeken (reference §3.9, §6.5).
//!
//! Pure functions of the message, a [`VerzoekSnapshot`] and (for the 317) the day: no I/O. Like
//! 305/307, a verzoek is rejected as a whole; the findings say on which class each code goes.
//!
//! Rule texts: the definitions of TR304, TR347, TR349–TR351, TR357, TR361, TR373–TR375,
//! TR411 and TR412 in the iWmo 3.2 informatiemodel and the WJ001 descriptions of their codes.
//! Choices the texts leave open, marked **[derived]** below:
//! * "actueel" (TR349–TR351) is read as the toewijzing's current version (IV013), not deleted
//!   (RedenWijziging 13/01 with Einddatum = Ingangsdatum) and not ended before `today`;
//! * a ToewijzingNummer of another aanbieder is reported as unknown (TR350/TR351), never with
//!   facts about that toewijzing; one of this aanbieder for another client gives TR304 (8187);
//! * TR349 (a current toewijzing missing), TR347 and TR374 of a 317 go on the Verzoek class; TR374
//!   of a 315 on the Client (a 315 has no Verzoek class);
//! * TR373 "het totaal over toewijzingsperiode" is an Omvang with Frequentie 6 that differs from
//!   the toewijzing's Omvang;
//! * TR375/TR411/TR412 take the Einddatum of the TeWijzigenProduct (as CD080 takes the one of
//!   its own class); for a toewijzing without Product only TR375 fires, TR412 for one with a
//!   Product without Code (the letter of TR412 would report a generic toewijzing twice);
//! * TR361 compares every NieuwProduct with the toewijzingen the verzoek keeps (OngewijzigdProduct
//!   as toegewezen; TeWijzigenProduct from its Ingangsdatum to the requested Einddatum, open when
//!   absent) with the overlap test of TR302/TR410; NieuwProducten among themselves are TR410
//!   (level 2). The code goes on the NieuwProduct.

use chrono::NaiveDate;
use serde::Serialize;

use super::decision::StartStopDecision;
use super::inmessage::shape::{stacked, Span};
use super::state::{Toewijzing, VerzoekSnapshot};
use super::{idx, Finding};
use crate::domain::{AgbCode, Bsn, Frequentie, Gemeentecode, ToewijzingNummer};
use crate::message::common::Product;
use crate::message::verzoek::{NieuwProduct, TeWijzigenProduct, Verzoek317};
use crate::message::{Wmo315, Wmo317};

const CLIENT: &str = "/Bericht/Client";
const VERZOEK: &str = "/Bericht/Client/Verzoek";

/// The decision on a 317: findings per class of the message (empty = fine).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WijzigingDecision {
    /// Header-level findings (9056, 8848; filled by the caller): header-only answer.
    pub header: Vec<Finding>,
    pub client: Vec<Finding>,
    pub verzoek: Vec<Finding>,
    /// Per OngewijzigdProduct, TeWijzigenProduct and NieuwProduct, in message order.
    pub ongewijzigd: Vec<Vec<Finding>>,
    pub te_wijzigen: Vec<Vec<Finding>>,
    pub nieuw: Vec<Vec<Finding>>,
}

impl WijzigingDecision {
    /// The whole verzoek is approved (a 317 is rejected as a whole).
    pub fn approved(&self) -> bool {
        [&self.header, &self.client, &self.verzoek]
            .iter()
            .all(|f| f.is_empty())
            && [&self.ongewijzigd, &self.te_wijzigen, &self.nieuw]
                .iter()
                .all(|l| l.iter().all(|p| p.is_empty()))
    }
}

fn finding(rule: &'static str, location: String, facts: String) -> Finding {
    Finding::new(rule, vec![location], Some(facts))
}

/// S329 (TR381, level 4) when a code list is loaded and the product's Categorie/Code is not on it.
fn tr381(snap: &VerzoekSnapshot, product: Option<&Product>, location: &str) -> Option<Finding> {
    let p = product?;
    let code = p.code.as_ref()?;
    if snap.product_codes.is_empty()
        || snap
            .product_codes
            .iter()
            .any(|(c, k)| *c == p.categorie && k == code)
    {
        return None;
    }
    Some(finding(
        "TR381",
        location.to_string(),
        format!(
            "ProductCategorie {} met ProductCode {code} staat niet in de productcodelijst",
            p.categorie
        ),
    ))
}

/// TR374: the facts when this aanbieder has a verzoek for this client in behandeling.
fn tr374(snap: &VerzoekSnapshot) -> Option<String> {
    if snap.open_verzoeken.is_empty() {
        return None;
    }
    Some(format!(
        "verzoek met ReferentieAanbieder {} is nog in behandeling",
        snap.open_verzoeken.join(", ")
    ))
}

/// TR347: the facts when `referentie` was used before by this aanbieder.
fn tr347(snap: &VerzoekSnapshot, referentie: &str) -> Option<String> {
    snap.referenties_aanbieder
        .iter()
        .any(|r| r == referentie)
        .then(|| format!("ReferentieAanbieder {referentie} is al eerder gebruikt"))
}

/// Level-3/4 checks on a WMO315: TR374 (9374) on the Client; per AangevraagdProduct TR347
/// (9347) and TR381 (S329). No 315 rule depends on the day.
pub fn check_315(m: &Wmo315, snap: &VerzoekSnapshot) -> StartStopDecision {
    let n = m.client.producten.len();
    let client = tr374(snap)
        .map(|facts| finding("TR374", CLIENT.to_string(), facts))
        .into_iter()
        .collect();
    let products = m
        .client
        .producten
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let loc = format!(
                "{CLIENT}/AangevraagdeProducten/AangevraagdProduct{}",
                idx(i, n)
            );
            let mut f = Vec::new();
            if let Some(facts) = tr347(snap, &a.referentie_aanbieder) {
                f.push(finding("TR347", loc.clone(), facts));
            }
            f.extend(tr381(snap, a.product.as_ref(), &loc));
            f
        })
        .collect();
    StartStopDecision {
        header: Vec::new(),
        client,
        products,
    }
}

/// The facts of the message that scope the stored toewijzingen.
struct Ctx<'a> {
    aanbieder: AgbCode,
    gemeente: Gemeentecode,
    bsn: Bsn,
    dagtekening: NaiveDate,
    today: NaiveDate,
    toewijzingen: &'a [Toewijzing],
}

impl<'a> Ctx<'a> {
    /// The current version (IV013) of toewijzing `nr` of this gemeente.
    fn current(&self, nr: ToewijzingNummer) -> Option<&'a Toewijzing> {
        self.toewijzingen
            .iter()
            .filter(|t| t.gemeente == self.gemeente && t.toewijzing_nummer == nr)
            .max_by_key(|t| (t.toewijzingsdatum, t.toewijzingstijd))
    }

    /// Actueel: not deleted and not ended before today **[derived]**.
    fn actueel(&self, t: &Toewijzing) -> bool {
        !t.is_verwijderd() && t.einddatum.is_none_or(|e| e >= self.today)
    }

    /// TR350/TR351 (`rule`) or TR304: `Err((rule, facts))` when ToewijzingNummer `nr` does not
    /// link to a current toewijzing of this gemeente to this aanbieder for this client.
    fn link(
        &self,
        nr: ToewijzingNummer,
        rule: &'static str,
    ) -> Result<&'a Toewijzing, (&'static str, String)> {
        let (g, a) = (self.gemeente, self.aanbieder);
        match self.current(nr) {
            Some(t) if t.aanbieder == a => {
                if t.bsn != self.bsn {
                    Err((
                        "TR304",
                        format!("toewijzing {nr} van gemeente {g} aan aanbieder {a} hoort bij een andere cliënt"),
                    ))
                } else if t.is_verwijderd() {
                    Err((rule, format!("toewijzing {nr} is verwijderd")))
                } else if !self.actueel(t) {
                    let eind = t.einddatum.map(d).unwrap_or_default();
                    Err((rule, format!("toewijzing {nr} is beëindigd per {eind}")))
                } else {
                    Ok(t)
                }
            }
            // Another aanbieder's toewijzing is reported as unknown to this one.
            _ => Err((
                rule,
                format!("toewijzing {nr} is niet bekend bij gemeente {g} voor aanbieder {a}"),
            )),
        }
    }

    /// The current toewijzingen of this client from this gemeente to this aanbieder (TR349).
    fn actuele_van_client(&self) -> Vec<ToewijzingNummer> {
        let mut nrs: Vec<ToewijzingNummer> = self
            .toewijzingen
            .iter()
            .map(|t| t.toewijzing_nummer)
            .collect();
        nrs.sort();
        nrs.dedup();
        nrs.into_iter()
            .filter(|nr| {
                self.current(*nr).is_some_and(|t| {
                    t.aanbieder == self.aanbieder && t.bsn == self.bsn && self.actueel(t)
                })
            })
            .collect()
    }
}

/// Level-3/4 checks on a WMO317: on the Verzoek TR347 (9347), TR374 (9374), TR349 (9349); per
/// OngewijzigdProduct TR350 (9350) / TR304 (8187); per TeWijzigenProduct TR351 (9351) / TR304,
/// TR357 (9357), TR373 (9373), TR375 (9375), TR411 (9411), TR412 (9412); per NieuwProduct TR361
/// (9361) and TR381 (S329). "Actueel" is judged on `today`.
pub fn check_317(m: &Wmo317, snap: &VerzoekSnapshot, today: NaiveDate) -> WijzigingDecision {
    let ctx = Ctx {
        aanbieder: m.header.afzender,
        gemeente: m.header.ontvanger,
        bsn: m.client.bsn,
        dagtekening: m.header.bericht_identificatie.dagtekening,
        today,
        toewijzingen: &snap.toewijzingen,
    };
    let v = &m.client.verzoek;
    let verzoek = verzoek_rules(&ctx, snap, v);

    let n = v.ongewijzigde_producten.len();
    let mut kept: Vec<(ToewijzingNummer, Span<'_>)> = Vec::new();
    let ongewijzigd = v
        .ongewijzigde_producten
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let loc = format!(
                "{VERZOEK}/OngewijzigdeProducten/OngewijzigdProduct{}",
                idx(i, n)
            );
            match ctx.link(o.toewijzing_nummer, "TR350") {
                Ok(t) => {
                    kept.push((t.toewijzing_nummer, toegewezen_span(t, t.einddatum)));
                    Vec::new()
                }
                Err((rule, facts)) => vec![finding(rule, loc, facts)],
            }
        })
        .collect();

    let n = v.te_wijzigen_producten.len();
    let te_wijzigen = v
        .te_wijzigen_producten
        .iter()
        .enumerate()
        .map(|(i, tw)| {
            let loc = format!(
                "{VERZOEK}/TeWijzigenProducten/TeWijzigenProduct{}",
                idx(i, n)
            );
            match ctx.link(tw.toewijzing_nummer, "TR351") {
                Ok(t) => {
                    kept.push((t.toewijzing_nummer, toegewezen_span(t, tw.einddatum)));
                    te_wijzigen_rules(&ctx, t, tw, &loc)
                }
                Err((rule, facts)) => vec![finding(rule, loc, facts)],
            }
        })
        .collect();

    let n = v.nieuwe_producten.len();
    let nieuw = v
        .nieuwe_producten
        .iter()
        .enumerate()
        .map(|(i, np)| {
            let loc = format!("{VERZOEK}/NieuweProducten/NieuwProduct{}", idx(i, n));
            let mut f: Vec<Finding> = tr361(&kept, np, &loc).into_iter().collect();
            f.extend(tr381(snap, np.product.as_ref(), &loc));
            f
        })
        .collect();

    WijzigingDecision {
        header: Vec::new(),
        client: Vec::new(),
        verzoek,
        ongewijzigd,
        te_wijzigen,
        nieuw,
    }
}

/// TR347, TR374 and TR349 on the Verzoek class.
fn verzoek_rules(ctx: &Ctx<'_>, snap: &VerzoekSnapshot, v: &Verzoek317) -> Vec<Finding> {
    let mut verzoek = Vec::new();
    if let Some(facts) = tr347(snap, &v.referentie_aanbieder) {
        verzoek.push(finding("TR347", VERZOEK.to_string(), facts));
    }
    if let Some(facts) = tr374(snap) {
        verzoek.push(finding("TR374", VERZOEK.to_string(), facts));
    }
    let genoemd: Vec<ToewijzingNummer> = v
        .ongewijzigde_producten
        .iter()
        .map(|o| o.toewijzing_nummer)
        .chain(v.te_wijzigen_producten.iter().map(|t| t.toewijzing_nummer))
        .collect();
    let ontbrekend: Vec<String> = ctx
        .actuele_van_client()
        .into_iter()
        .filter(|nr| !genoemd.contains(nr))
        .map(|nr| nr.to_string())
        .collect();
    if !ontbrekend.is_empty() {
        verzoek.push(finding(
            "TR349",
            VERZOEK.to_string(),
            format!("actuele toewijzing(en) {} ontbreken", ontbrekend.join(", ")),
        ));
    }
    verzoek
}

/// The toewijzing as the verzoek keeps it: from its Ingangsdatum to `eind`.
fn toegewezen_span(t: &Toewijzing, eind: Option<NaiveDate>) -> Span<'_> {
    Span {
        product: t.product.as_ref(),
        begin: t.ingangsdatum,
        eind,
    }
}

/// TR361 on a NieuwProduct: the first kept toewijzing of the same product whose period overlaps.
fn tr361(kept: &[(ToewijzingNummer, Span<'_>)], np: &NieuwProduct, loc: &str) -> Option<Finding> {
    let span = Span {
        product: np.product.as_ref(),
        begin: np.gewenste_ingangsdatum,
        eind: np.einddatum,
    };
    let (nr, other) = kept.iter().find(|(_, k)| stacked(k, &span))?;
    Some(finding(
        "TR361",
        loc.to_string(),
        format!(
            "NieuwProduct ({}) overlapt met toewijzing {nr} ({})",
            span.periode_text(),
            other.periode_text()
        ),
    ))
}

/// TR357, TR373, TR375, TR411, TR412 on a TeWijzigenProduct linked to toewijzing `t`.
fn te_wijzigen_rules(
    ctx: &Ctx<'_>,
    t: &Toewijzing,
    tw: &TeWijzigenProduct,
    loc: &str,
) -> Vec<Finding> {
    let mut f = Vec::new();
    let nr = t.toewijzing_nummer;
    let gewenst = tw.gewenste_ingangsdatum;
    let add = |f: &mut Vec<Finding>, rule, facts| f.push(finding(rule, loc.to_string(), facts));
    if gewenst <= ctx.dagtekening && gewenst != t.ingangsdatum {
        add(
            &mut f,
            "TR357",
            format!(
                "GewensteIngangsdatum {} ligt op of voor Dagtekening {}, Ingangsdatum van toewijzing {nr} is {}",
                d(gewenst),
                d(ctx.dagtekening),
                d(t.ingangsdatum)
            ),
        );
    }
    let budget_anders = tw.budget.is_some_and(|b| Some(b.cents()) != t.budget);
    let totaal_anders = tw.omvang.is_some_and(|o| {
        o.frequentie == Frequentie::TotaalBinnenGeldigheidsduur
            && (t.frequentie != Some(o.frequentie)
                || t.eenheid != Some(o.eenheid)
                || t.volume != Some(o.volume.get()))
    });
    if (budget_anders || totaal_anders) && gewenst != t.ingangsdatum {
        let wat = if budget_anders {
            "Budget"
        } else {
            "totaal binnen de geldigheidsduur"
        };
        add(
            &mut f,
            "TR373",
            format!(
                "{wat} van toewijzing {nr} gewijzigd met GewensteIngangsdatum {}, Ingangsdatum is {}",
                d(gewenst),
                d(t.ingangsdatum)
            ),
        );
    }
    let after_2020 = tw.einddatum.is_none_or(|e| e > d2020());
    let code = t.product.as_ref().and_then(|p| p.code.as_ref());
    match (&t.product, code, &tw.omvang) {
        (None, _, Some(_)) if after_2020 => add(
            &mut f,
            "TR375",
            format!("toewijzing {nr} heeft geen Product"),
        ),
        (Some(p), None, Some(_)) if after_2020 => add(
            &mut f,
            "TR412",
            format!("toewijzing {nr} heeft Product {} zonder Code", p.categorie),
        ),
        (Some(p), Some(c), None) => add(
            &mut f,
            "TR411",
            format!("toewijzing {nr} heeft Product {}/{c}", p.categorie),
        ),
        _ => {}
    }
    f
}

fn d2020() -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 12, 31).unwrap_or_default()
}

/// `YYYY-MM-DD`.
fn d(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests;
