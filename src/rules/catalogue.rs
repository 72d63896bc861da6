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

macro_rules! l3 {
    ($id:literal, $code:ident, $text:literal) => {
        Rule {
            id: $id,
            level: Level::CrossMessage,
            code: RetourCode::$code,
            text: $text,
        }
    };
}

macro_rules! l4 {
    ($id:literal, $code:ident, $text:literal) => {
        Rule {
            id: $id,
            level: Level::External,
            code: RetourCode::$code,
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
    // Level 2 for WMO315 (VOT) and WMO317 (VOW): the XSLT 2.10.5 rules of docs/level2-rules.md
    // §9; texts after the XSLT's Details (CD/CS) and the official TR definitions.
    l2!("CD043", "BeschikkingNummer en BeschikkingIngangsdatum moeten beide gevuld of beide leeg zijn."),
    l2!("CD066", "Bij een Verwijzer van Type 02, 03, 04 of 05 met een ZorgverlenerCode moet de Naam van de verwijzer leeg zijn."),
    l2!("CD067", "Bij een Verwijzer van Type 02, 03, 04 of 05 zonder ZorgverlenerCode moet de Naam van de verwijzer gevuld zijn."),
    l2!("CD068", "Bij een Verwijzer van een ander Type dan 02, 03, 04 of 05 moet de ZorgverlenerCode leeg zijn."),
    l2!("CD095", "Omvang moet leeg zijn als de Code in Product van het AangevraagdProduct leeg is en de ToewijzingEinddatum na 31-12-2020 ligt of leeg is."),
    l2!("CD096", "Omvang moet leeg zijn als de Code in Product van het NieuwProduct leeg is en de Einddatum na 31-12-2020 ligt of leeg is."),
    l2!("CS343", "Bij Eenheid 14, 16, 83 of 84 moet de Frequentie 2, 4 of 6 zijn (als de ToewijzingEinddatum na 31-12-2020 ligt of leeg is)."),
    l2!("TR352", "Een verzoek om wijziging moet minstens één OngewijzigdProduct of TeWijzigenProduct bevatten."),
    l2!("TR353", "Een verzoek om wijziging moet minstens één TeWijzigenProduct of NieuwProduct bevatten."),
    l2!("TR380", "De GewensteIngangsdatum van een NieuwProduct moet na de Dagtekening van het bericht liggen."),
    l2!("TR383", "De ReferentieAanbieder moet uniek zijn voor elk AangevraagdProduct in het bericht."),
    l2!("TR386", "Hetzelfde product wordt in het verzoek om toewijzing meerdere keren aangevraagd voor (deels) dezelfde periode."),
    l2!("TR410", "Hetzelfde product wordt als NieuwProduct meerdere keren aangevraagd voor (deels) dezelfde periode."),
    // ---- Level 3 (cross-message) and level 4 (external sources) ----
    l3!("TR056", R9056, "De Identificatie van het bericht is al eerder gebruikt voor dit berichttype door deze afzender."),
    l4!("TR135", R8848, "De Dagtekening van het bericht ligt na de systeemdatum van de gemeente."),
    l3!("TR019", R9019, "Het product kan via het ToewijzingNummer niet gekoppeld worden aan een toewijzing van deze gemeente aan deze aanbieder."),
    l3!("TR063", R9063, "Verwijderen (StatusAanlevering 3) is niet mogelijk: er is geen eerdere aanlevering met dezelfde sleutel voor deze cliënt."),
    l3!("TR382", R9069, "Er is geen actuele start met dezelfde ToewijzingNummer, Product en Begindatum: een stop moet de sleutelgegevens van de start ongewijzigd overnemen."),
    l3!("TR071", R9071, "De start kan niet worden verwijderd omdat er al een stop voor is ontvangen; verwijder eerst de stop."),
    l3!("TR074", R9074, "Deze aanlevering (StatusAanlevering 1) is al eerder ontvangen met dezelfde sleutel."),
    l3!("TR326", R9326, "Er is al een actuele start (niet gestopt en niet verwijderd) voor deze toewijzing."),
    l3!("TR413", R9413, "Er is al een tijdelijke stop (reden 20) voor deze start; zonder nieuwe start kan alleen een definitieve stop volgen."),
    l3!("TR414", R9414, "De Einddatum ligt voor de Einddatum van de bestaande stop voor deze start."),
    l3!("TR415", R9415, "Er is al een definitieve stop voor deze start."),
    l3!("TR333", R9333, "Het DeclaratieNummer is al eerder gebruikt door deze aanbieder."),
    l3!("TR318", R8214, "De DeclaratiePeriode ligt voor de laatst ingediende DeclaratiePeriode van deze aanbieder."),
    l3!("TR338", R9338, "De prestatie kan via het ToewijzingNummer niet gekoppeld worden aan een toegewezen product van deze gemeente aan deze aanbieder."),
    l3!("TR304", R8187, "De toewijzing hoort niet bij deze cliënt (ander BSN)."),
    l3!("TR339", R9339, "De ProductCategorie wijkt af van de toegewezen ProductCategorie."),
    l3!("TR340", R9340, "De ProductCode wijkt af van de toegewezen ProductCode."),
    l3!("TR341", R9341, "De Eenheid past niet bij de toegewezen Eenheid."),
    l3!("TR307", R9307, "De ProductPeriode begint voor de Ingangsdatum van de toewijzing."),
    l3!("TR308", R9308, "De ProductPeriode eindigt na de Einddatum van de toewijzing."),
    l3!("TR387", R9387, "De ProductPeriode begint niet op de eerste dag van de maand (en de toewijzing begint niet later in die maand)."),
    l3!("TR388", R9388, "De ProductPeriode eindigt niet op de laatste dag van de maand (en de toewijzing eindigt niet eerder in die maand)."),
    l3!("TR384", R9384, "Er wordt gedeclareerd op een verwijderde toewijzing (RedenWijziging 13)."),
    l3!("TR321", R9321, "Het GeleverdVolume is groter dan het toegewezen volume voor deze ProductPeriode."),
    l3!("TR322", R9322, "Het totaal gedeclareerde volume op deze toewijzing is groter dan het toegewezen totaal."),
    l3!("TR369", R9369, "Het totaal gedeclareerde bedrag op deze toewijzing past niet binnen het toegewezen Budget."),
    l3!("TR346", R9346, "Het IngediendBedrag is niet gelijk aan GeleverdVolume maal ProductTarief."),
    l4!("TR418", R0611, "Het ProductTarief wijkt af van het tarief in het contract (of er is geen contracttarief voor dit product in deze periode)."),
    l3!("TR314", R8021, "Het ReferentieNummer is al eerder door deze aanbieder aangeleverd."),
    l3!("TR323", R8017, "Er is geen goedgekeurde debetprestatie bij deze creditprestatie (VorigReferentieNummer)."),
    l3!("TR389", R9389, "Er is al een goedgekeurde debetprestatie voor dezelfde ProductPeriode, ProductCategorie, ProductCode en ToewijzingNummer die niet is gecrediteerd."),
    l3!("TR390", R9390, "Deze debetprestatie is al eerder gecrediteerd."),
    l4!("TR381", RS329, "De ProductCode hoort niet bij de ProductCategorie volgens de gebruikte productcodelijst."),
    // Level 3 for WMO315/WMO317 (src/rules/verzoek.rs): texts after the official TR definitions
    // and the WJ001 descriptions of their retour codes.
    l3!("TR347", R9347, "De ReferentieAanbieder is niet uniek: deze aanbieder heeft hem al eerder gebruikt."),
    l3!("TR374", R9374, "Er is al een verzoek van deze aanbieder voor deze cliënt in behandeling."),
    l3!("TR349", R9349, "Het verzoek om wijziging bevat niet alle actuele toewijzingen van de cliënt (als OngewijzigdProduct of TeWijzigenProduct)."),
    l3!("TR350", R9350, "Het OngewijzigdProduct is via het ToewijzingNummer niet gerelateerd aan een actuele toewijzing van deze gemeente aan deze aanbieder."),
    l3!("TR351", R9351, "Het TeWijzigenProduct is via het ToewijzingNummer niet gerelateerd aan een actuele toewijzing van deze gemeente aan deze aanbieder."),
    l3!("TR357", R9357, "De GewensteIngangsdatum ligt op of voor de Dagtekening, maar is niet gelijk aan de Ingangsdatum van de toewijzing."),
    l3!("TR373", R9373, "Het Budget (of het totaal binnen de geldigheidsduur) wordt gewijzigd, maar de GewensteIngangsdatum is niet gelijk aan de Ingangsdatum van de toewijzing."),
    l3!("TR375", R9375, "Omvang is gevuld, terwijl de toewijzing met dit ToewijzingNummer geen Product heeft en de Einddatum na 31-12-2020 ligt of leeg is."),
    l3!("TR411", R9411, "Omvang is leeg, terwijl de Code in Product van de toewijzing met dit ToewijzingNummer gevuld is."),
    l3!("TR412", R9412, "Omvang is gevuld, terwijl de Code in Product van de toewijzing met dit ToewijzingNummer leeg is en de Einddatum na 31-12-2020 ligt of leeg is."),
    l3!("TR361", R9361, "Het product komt in het verzoek om wijziging vaker voor met overlappende periodes."),
    // Local policy, not a rule of the standard: "geen startbericht, geen betaling" as a rejection
    // (policy `reject`). OP364 forbids this; it is logged as a deviation. Retour code 9069
    // ("geen actuele start") is the closest the code list offers.
    Rule {
        id: "LOKAAL-GEEN-START",
        level: Level::CrossMessage,
        code: RetourCode::R9069,
        text: "Lokaal beleid (afwijking van OP364): geen start ontvangen die de ProductPeriode dekt.",
    },
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
