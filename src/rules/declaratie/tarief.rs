//! Amounts and tariffs: TR346 (IngediendBedrag = GeleverdVolume × ProductTarief) and TR418
//! (the ProductTarief is the contract tariff).

use super::index::Ctx;
use super::volume::euro;
use super::Findings;
use crate::domain::*;
use crate::message::Prestatie;

impl Ctx<'_> {
    /// TR346 → 9346: Eenheid ≠ 83 and IngediendBedrag ≠ GeleverdVolume × ProductTarief.
    ///
    /// Hours declared as minutes (IV081): the shown per-minute tariff is rounded, the amount is
    /// round_half_up(hourly tariff × minutes / 60); with an hourly contract that amount is
    /// accepted too.
    pub(super) fn tr346(&self, f: &mut Findings, p: &Prestatie) {
        if p.eenheid == Eenheid::Euro {
            return;
        }
        let Some(tarief) = p.product_tarief else {
            return; // CD087, level 2
        };
        let bedrag = u128::from(p.ingediend_bedrag.bedrag.cents());
        let volume = u128::from(p.geleverd_volume.get());
        let expected = volume.saturating_mul(u128::from(tarief.cents()));
        if bedrag == expected {
            return;
        }
        if p.eenheid == Eenheid::Minuut && self.contract(p, Eenheid::Minuut).is_none() {
            if let Some(c) = self.contract(p, Eenheid::Uur) {
                let exact = volume
                    .saturating_mul(u128::from(c.tarief))
                    .saturating_add(30)
                    / 60;
                if bedrag == exact {
                    return;
                }
            }
        }
        f.add(
            "TR346",
            format!(
                "IngediendBedrag {}, GeleverdVolume {} × ProductTarief {} = {}",
                euro(bedrag as i128),
                volume,
                euro(i128::from(tarief.cents())),
                euro(expected as i128)
            ),
        );
    }

    /// TR418 → 0611 (level 4, debits): the ProductTarief must be the contract tariff for
    /// (aanbieder, gemeente, categorie, code, eenheid) on the ProductPeriode's Begindatum.
    pub(super) fn tr418(&self, f: &mut Findings, p: &Prestatie) {
        let product = format!("{}/{}", p.product_categorie, p.product_code);
        let begin = p.product_periode.begindatum;
        if p.eenheid == Eenheid::Euro {
            // No tariff to compare: only a contract for this product in euro's is required.
            if self.contract(p, Eenheid::Euro).is_none() {
                f.add(
                    "TR418",
                    format!("geen contract voor product {product} met Eenheid 83 op {begin}"),
                );
            }
            return;
        }
        let Some(tarief) = p.product_tarief else {
            return; // CD087, level 2
        };
        let declared = tarief.cents();
        let (expected, how) = match self.contract(p, p.eenheid) {
            Some(c) => (c.tarief, String::new()),
            None => match (p.eenheid, self.contract(p, Eenheid::Uur)) {
                // IV081: minutes against an hourly contract, tariff per minute rounded half up.
                (Eenheid::Minuut, Some(c)) => (
                    c.tarief.saturating_add(30) / 60,
                    format!(" (uurtarief {} / 60, afgerond)", c.tarief),
                ),
                _ => {
                    f.add(
                        "TR418",
                        format!(
                            "geen contract voor product {product} met Eenheid {} op {begin}",
                            p.eenheid
                        ),
                    );
                    return;
                }
            },
        };
        if declared != expected {
            f.add(
                "TR418",
                format!("ProductTarief {declared}, contracttarief {expected}{how}"),
            );
        }
    }
}
