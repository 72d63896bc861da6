//! The rules against the toewijzing a Prestatie names: client, product, unit, period (TR304,
//! TR384, TR339–TR341, TR307/TR308, TR387/TR388) and the volumes and budget (TR321, TR322,
//! TR369).

use chrono::Datelike;

use super::index::{eenheid_index, Ctx};
use super::volume::{euro, fits, max_per_periode, max_totaal, unit};
use super::Findings;
use crate::domain::*;
use crate::message::Prestatie;
use crate::rules::state::Toewijzing;

impl Ctx<'_> {
    /// TR304, TR384, TR339–TR341, TR307/TR308, TR387/TR388, TR321, TR322, TR369.
    pub(super) fn toewijzing_rules(
        &self,
        f: &mut Findings,
        t: &Toewijzing,
        bsn: &Bsn,
        p: &Prestatie,
    ) {
        let nr = t.toewijzing_nummer;
        if t.bsn != *bsn {
            f.add(
                "TR304",
                format!("toewijzing {nr} hoort bij een andere cliënt"),
            );
        }
        if p.is_credit() {
            return;
        }
        if t.is_verwijderd() {
            f.add(
                "TR384",
                format!(
                    "toewijzing {nr} is verwijderd (RedenWijziging {})",
                    t.reden_wijziging.map(|r| r.code()).unwrap_or("13")
                ),
            );
        }
        product_rules(f, t, p);
        let unit_fits = unit_rule(f, t, p);
        periode_rules(f, t, p);
        if unit_fits {
            self.volume_rules(f, t, p);
        }
        self.tr369(f, t, p);
    }

    /// TR321 (per ProductPeriode) and TR322 (cumulative), for a debit whose unit fits.
    fn volume_rules(&self, f: &mut Findings, t: &Toewijzing, p: &Prestatie) {
        let (Some(volume), Some(te), Some(freq)) = (t.volume, t.eenheid, t.frequentie) else {
            return;
        };
        let nr = t.toewijzing_nummer;
        let vol = u128::from(volume);
        // Compare in the smallest unit involved: minutes when hours were assigned.
        let factor: u128 = if te == Eenheid::Uur { 60 } else { 1 };
        let scale = |e: Eenheid| -> Option<i128> {
            match (te, e) {
                (Eenheid::Uur, Eenheid::Uur) => Some(60),
                (Eenheid::Uur, Eenheid::Minuut) => Some(1),
                (a, b) if a == b => Some(1),
                _ => None,
            }
        };
        let declared = i128::from(p.geleverd_volume.get()) * scale(p.eenheid).unwrap_or(1);
        let shown = |v: u128| -> String {
            if te == Eenheid::Uur && p.eenheid == Eenheid::Minuut {
                format!("{v} {} ({} minuten)", unit(te), v.saturating_mul(60))
            } else {
                format!("{v} {}", unit(te))
            }
        };

        // TR321.
        let categorie = t
            .product
            .as_ref()
            .map(|pr| pr.categorie)
            .unwrap_or(p.product_categorie);
        if let Some((max, how)) = max_per_periode(t, vol, te, freq, categorie, &p.product_periode) {
            if declared > i128::try_from(max.saturating_mul(factor)).unwrap_or(i128::MAX) {
                f.add(
                    "TR321",
                    format!(
                        "GeleverdVolume {} {}, maximaal {} voor ProductPeriode {} t/m {} ({how})",
                        p.geleverd_volume.get(),
                        unit(p.eenheid),
                        shown(max),
                        p.product_periode.begindatum,
                        p.product_periode.einddatum
                    ),
                );
            }
        }

        // TR322.
        if let Some((max, how)) = max_totaal(t, vol, te, freq) {
            let s = self.sums.get(&nr).copied().unwrap_or_default();
            let earlier: i128 = Eenheid::ALL
                .iter()
                .filter_map(|e| scale(*e).map(|k| s.volume[eenheid_index(*e)].saturating_mul(k)))
                .fold(0i128, |a, b| a.saturating_add(b));
            let total = earlier.saturating_add(declared);
            let limit = i128::try_from(max.saturating_mul(factor)).unwrap_or(i128::MAX);
            if total > limit {
                let total_shown = if factor == 60 {
                    format!("{total} minuten")
                } else {
                    format!("{total} {}", unit(te))
                };
                f.add(
                    "TR322",
                    format!(
                        "totaal goedgekeurd op toewijzing {nr} inclusief deze prestatie {total_shown}, toegewezen totaal {max} {} ({how})",
                        unit(te)
                    ),
                );
            }
        }
    }

    /// TR369 → 9369 (toewijzing with a Budget, debits).
    ///
    /// The rule text compares "the sum of GeleverdVolume" with a Budget in cents, which only makes
    /// sense for Eenheid 83; the reference (§9.3, §13) flags the intended comparison as
    /// unverified. We compare what can be compared with a budget in cents: Σ of the approved
    /// signed IngediendBedragen on the toewijzing, including this line. Confirm with the
    /// informatiemodel before relying on it.
    fn tr369(&self, f: &mut Findings, t: &Toewijzing, p: &Prestatie) {
        let Some(budget) = t.budget else {
            return;
        };
        let s = self
            .sums
            .get(&t.toewijzing_nummer)
            .copied()
            .unwrap_or_default();
        let total = s
            .bedrag
            .saturating_add(i128::from(p.ingediend_bedrag.signed()));
        if total > i128::from(budget) {
            f.add(
                "TR369",
                format!(
                    "totaal gedeclareerd op toewijzing {} inclusief deze prestatie {}, Budget {}",
                    t.toewijzing_nummer,
                    euro(total),
                    euro(i128::from(budget))
                ),
            );
        }
    }
}

/// TR339 (ProductCategorie) and TR340 (ProductCode) against the toegewezen product.
fn product_rules(f: &mut Findings, t: &Toewijzing, p: &Prestatie) {
    if let Some(prod) = &t.product {
        if prod.categorie != p.product_categorie {
            f.add(
                "TR339",
                format!(
                    "ProductCategorie {}, toegewezen ProductCategorie {}",
                    p.product_categorie, prod.categorie
                ),
            );
        }
        if let Some(code) = &prod.code {
            if *code != p.product_code {
                f.add(
                    "TR340",
                    format!(
                        "ProductCode {}, toegewezen ProductCode {code}",
                        p.product_code
                    ),
                );
            }
        }
    }
}

/// TR341: the declared unit fits the toegewezen one. Whether it fits (the volume rules only
/// apply then).
fn unit_rule(f: &mut Findings, t: &Toewijzing, p: &Prestatie) -> bool {
    let unit_fits = match t.eenheid {
        None => true,
        Some(te) => fits(p.eenheid, te),
    };
    if !unit_fits {
        if let Some(te) = t.eenheid {
            f.add(
                "TR341",
                format!(
                    "Eenheid {} ({}), toegewezen Eenheid {} ({})",
                    p.eenheid,
                    unit(p.eenheid),
                    te,
                    unit(te)
                ),
            );
        }
    }
    unit_fits
}

/// TR307/TR308 (within the toewijzing) and TR387/TR388 (whole months or the toewijzing's own
/// begin and end).
fn periode_rules(f: &mut Findings, t: &Toewijzing, p: &Prestatie) {
    let nr = t.toewijzing_nummer;
    let pp = &p.product_periode;
    if pp.begindatum < t.ingangsdatum {
        f.add(
            "TR307",
            format!(
                "Prestatie begint {}, toewijzing {nr} begint pas {}",
                pp.begindatum, t.ingangsdatum
            ),
        );
    }
    if let Some(eind) = t.einddatum {
        if pp.einddatum > eind {
            f.add(
                "TR308",
                format!(
                    "Prestatie eindigt {}, toewijzing {nr} eindigt al {eind}",
                    pp.einddatum
                ),
            );
        }
    }
    if pp.begindatum.day() != 1 && pp.begindatum != t.ingangsdatum {
        f.add(
            "TR387",
            format!(
                "ProductPeriode begint {}, niet op de 1e van de maand en niet op de Ingangsdatum {} van toewijzing {nr}",
                pp.begindatum, t.ingangsdatum
            ),
        );
    }
    if pp.einddatum != last_day_of_month(pp.einddatum) && Some(pp.einddatum) != t.einddatum {
        f.add(
            "TR388",
            format!(
                "ProductPeriode eindigt {}, niet op de laatste dag van de maand en niet op de Einddatum {} van toewijzing {nr}",
                pp.einddatum,
                t.einddatum
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "(geen)".into())
            ),
        );
    }
}
