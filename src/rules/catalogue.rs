//! The rule catalogue: rule id → level, retour code, Dutch text.
//!
//! Level 2 rules are those of the official iWmo 3.2 rule XSLT (XSLTVersie 2.10.5); they all lead
//! to a header-only retour with 0001. See docs/level2-rules.md for the exact conditions.

use crate::domain::RetourCode;

/// The four check levels of the standard.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// 1: XSD structure.
    Structure,
    /// 2: in-message rules (XSLT: CD, CS, in-message TR).
    InMessage,
    /// 3: cross-message rules (need earlier messages).
    CrossMessage,
    /// 4: external sources (system date, code lists, contracts).
    External,
}

impl Level {
    pub fn number(&self) -> u8 {
        match self {
            Level::Structure => 1,
            Level::InMessage => 2,
            Level::CrossMessage => 3,
            Level::External => 4,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub level: Level,
    pub code: RetourCode,
    /// Dutch text for back-office staff and providers.
    pub text: &'static str,
}

/// XSLT version whose rules level 2 implements; written into retours as XsltVersie.
pub const XSLT_VERSIE: crate::domain::Versie = crate::domain::Versie(2, 10, 5);

/// Version of this rule set, stored with every decision.
pub const RULESET_VERSION: &str = concat!("iwmo-3.2/xslt-2.10.5/", env!("CARGO_PKG_VERSION"));

macro_rules! l2 {
    ($id:literal, $text:literal) => {
        Rule {
            id: $id,
            level: Level::InMessage,
            code: RetourCode::R0001,
            text: $text,
        }
    };
}

/// Every rule the product checks.
pub static RULES: &[Rule] = &[
    // Level 1 placeholder so structure errors can be reported through the same channel.
    Rule {
        id: "XSD",
        level: Level::Structure,
        code: RetourCode::R0001,
        text: "Het bericht voldoet niet aan de XSD van iWmo 3.2.",
    },
    // ---- Level 2: filled from docs/level2-rules.md ----
    l2!("CD005", "Postcode en LandCode in het Adres moeten beide gevuld of beide leeg zijn."),
    l2!("CD007", "Taal moet gevuld zijn als Communicatie Vorm 1 (tolk taal) is, en anders leeg zijn."),
    l2!("CD009", "Periode mag alleen gevuld zijn bij een Contact met Soort 04 (tijdelijk adres)."),
    l2!("CD025", "Bij LandCode NL moet het Huisnummer van het Adres gevuld zijn."),
    l2!("CD034", "Bij een BRP-adres (Soort 01) of verblijfadres (Soort 03) moet de Postcode gevuld zijn."),
    l2!("CD041", "Omvang is verplicht als de Code in Product van de toewijzing gevuld is."),
    l2!("CD060", "VorigReferentieNummer moet gevuld zijn bij een creditregel (DebetCredit C) en leeg bij een debetregel."),
    l2!("CD075", "Einddatum is verplicht als Budget in de toewijzing gevuld is."),
    l2!("CD076", "Einddatum is verplicht als de Frequentie in Omvang 2 (per week) is."),
    l2!("CD077", "Omvang moet leeg zijn als Budget gevuld is."),
    l2!("CD078", "Budget moet leeg zijn als Omvang gevuld is."),
    l2!("CD079", "Product is verplicht als Budget in de toewijzing leeg is."),
    l2!("CD080", "Omvang moet leeg zijn als de Code in Product leeg is en de Einddatum na 31-12-2020 ligt of leeg is."),
    l2!("CD087", "ProductTarief is verplicht als Eenheid niet 83 (euro's) is, en moet leeg zijn bij Eenheid 83."),
    l2!("CS002", "Het BSN voldoet niet aan de elfproef."),
    l2!("CS003", "De Einddatum moet op of na de Ingangsdatum/Begindatum van de periode liggen."),
    l2!("CS050", "NaamGebruik moet 1, 2, 3 of 4 zijn als Partnernaam gevuld is, en anders 1."),
    l2!("CS058", "StatusAanlevering moet 1 (eerste aanlevering) of 3 (verwijderen aanlevering) zijn."),
    l2!("CS089", "Bij LandCode NL moet de Postcode het formaat 1234AB hebben (zonder spatie)."),
    l2!("CS100", "De Begindatum moet op of na 01-01-2021 liggen."),
    l2!("CS139", "Geboortedatum en DatumGebruik zijn niet met elkaar in overeenstemming."),
    l2!("CS325", "Een (Totaal)Bedrag van 0 moet als Debet (DebetCredit D) worden aangeleverd."),
    l2!("CS335", "RedenWijziging 13 (verwijderd) mag alleen als de Ingangsdatum gelijk is aan de Einddatum."),
    l2!("CS336", "RedenWijziging 01 (administratieve correctie, vervallen) mag niet worden gebruikt."),
    l2!("CS337", "Begindatum en Einddatum van de ProductPeriode moeten in dezelfde kalendermaand en hetzelfde jaar liggen."),
    l2!("CS338", "Bij Eenheid 14, 16, 83 of 84 moet de Frequentie 2, 4 of 6 zijn (als de Einddatum na 31-12-2020 ligt of leeg is)."),
    l2!("CS339", "Bij Eenheid 83 (euro's) moet het IngediendBedrag gelijk zijn aan het GeleverdVolume."),
    l2!("CS340", "De DeclaratiePeriode moet precies één hele kalendermaand zijn."),
    l2!("TR002", "De Geboortedatum ligt meer dan 120 jaar voor de Dagtekening van het bericht."),
    l2!("TR006", "Contact moet een Telefoon en/of een Adres met Huis en Postcode bevatten."),
    l2!("TR018", "De Einddatum van het StopProduct moet op of na de Begindatum liggen."),
    l2!("TR061", "De cliënt moet minstens één Contact met Soort 01, 02 of 03 hebben."),
    l2!("TR101", "Dubbele regel: binnen een bericht mag dezelfde regel (met dezelfde sleutel) niet meer dan één keer voorkomen."),
    l2!("TR134", "De datum mag niet na de Dagtekening van het bericht liggen."),
    l2!("TR137", "De Einddatum van de periode moet op of na de Begindatum en niet na de Dagtekening van het bericht liggen."),
    l2!("TR302", "Hetzelfde product is meerdere keren toegewezen voor (deels) dezelfde periode."),
    l2!("TR315", "Hetzelfde VorigReferentieNummer komt meer dan één keer voor in het bericht."),
    l2!("TR316", "Een debetregel mag niet in hetzelfde bericht gecrediteerd worden (VorigReferentieNummer verwijst naar een ReferentieNummer in dit bericht)."),
    l2!("TR319", "De ProductPeriode mag niet na de DeclaratiePeriode liggen."),
    l2!("TR335", "De Einddatum van de ProductPeriode ligt meer dan 5 jaar voor de DeclaratieDagtekening."),
    l2!("TR342", "Het verschil tussen TotaalIngediendBedrag en TotaalToegekendBedrag komt niet overeen met de som van de afgewezen prestaties (of TotaalToegekendBedrag is niet 0 bij afkeur van de hele declaratie)."),
    l2!("TR358", "TotaalIngediendBedrag is niet gelijk aan de som van de debet- min creditbedragen van alle prestaties."),
    l2!("TR416", "Er is al een debetregel voor dezelfde ProductPeriode, ProductCategorie, ProductCode en ToewijzingNummer in dit bericht."),
];

/// Looks up a rule; unknown ids are a programming error caught by the catalogue test.
pub fn rule(id: &str) -> &'static Rule {
    RULES.iter().find(|r| r.id == id).unwrap_or(&RULES[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(n, ids.len());
    }
}
