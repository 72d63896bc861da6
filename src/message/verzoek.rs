//! WMO315 Verzoek om toewijzing (VOT) / WMO316 VOT retour and WMO317 Verzoek om wijziging (VOW) /
//! WMO318 VOW retour.
//!
//! Field names follow the XSDs in `../shared/iwmo-3.2/xsd`. Where they differ from the reference
//! (§3.9) the XSD wins. Known differences:
//! * the derived WMO316.xsd (from iJw JW316) has an optional `GezagsdragerBekend` in the mirrored
//!   Client that WMO315 does not have: it is an iJw element without meaning for Wmo, so it is
//!   neither read nor written (the element is optional, so every 316 written here still validates);
//! * the reference names the 317 Verzoek's children without their list wrappers; the XSD wraps
//!   them in `OngewijzigdeProducten`, `TeWijzigenProducten` and `NieuweProducten`, each with at
//!   least one child when present.

use std::fmt;

use chrono::NaiveDate;

use super::common::*;
use super::xml::{self, fmt_date, ConvertError, El, XmlOut};
use crate::domain::*;

/// CDT_Verwijzer: who referred the client. `Naam` may name a person, so Debug shows only the Type.
#[derive(Clone, PartialEq, Eq)]
pub struct Verwijzer {
    /// LDT_TypeVerwijzer: 01 gemeente, 02 huisarts, 03 jeugdarts, 04 medisch specialist, …
    pub soort: ListCode,
    pub naam: Option<String>,
    pub zorgverlener_code: Option<AgbCode>,
}

impl fmt::Debug for Verwijzer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Verwijzer(Type {}, …)", self.soort)
    }
}

impl Verwijzer {
    fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(Verwijzer {
            soort: el.get("Type", |s| ListCode::parse("LDT_TypeVerwijzer", s))?,
            naam: el.string_opt("Naam"),
            zorgverlener_code: el.get_opt("ZorgverlenerCode", AgbCode::parse)?,
        })
    }
    fn write(&self, w: &mut XmlOut) {
        w.open("Verwijzer");
        w.bleaf("Type", self.soort);
        w.bleaf_opt("Naam", &self.naam);
        w.bleaf_opt("ZorgverlenerCode", &self.zorgverlener_code);
        w.close("Verwijzer");
    }
}

/// AangevraagdProduct (315/316): one requested toewijzing. ReferentieAanbieder is its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AangevraagdProduct {
    /// LDT_Referentie, kept exactly as sent (1–36 characters).
    pub referentie_aanbieder: String,
    pub beschikking_nummer: Option<Nummer>,
    pub product: Option<Product>,
    pub beschikking_ingangsdatum: Option<NaiveDate>,
    pub toewijzing_ingangsdatum: NaiveDate,
    pub toewijzing_einddatum: Option<NaiveDate>,
    pub omvang: Option<Omvang>,
    /// LDT_Budget, cents.
    pub budget: Option<Bedrag>,
    pub verwijzer: Verwijzer,
    /// LDT_JaNee: 1 ja, 2 nee.
    pub raamcontract: Option<ListCode>,
    pub commentaar: Option<String>,
}

impl Class for AangevraagdProduct {
    const NAME: &'static str = "AangevraagdProduct";
    fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(AangevraagdProduct {
            referentie_aanbieder: el.string("ReferentieAanbieder")?,
            beschikking_nummer: el.get_opt("BeschikkingNummer", xml::nummer)?,
            product: el.opt("Product").map(Product::from_el).transpose()?,
            beschikking_ingangsdatum: el.get_opt("BeschikkingIngangsdatum", xml::date)?,
            toewijzing_ingangsdatum: el.get("ToewijzingIngangsdatum", xml::date)?,
            toewijzing_einddatum: el.get_opt("ToewijzingEinddatum", xml::date)?,
            omvang: el.opt("Omvang").map(Omvang::from_el).transpose()?,
            budget: el.get_opt("Budget", xml::bedrag)?,
            verwijzer: Verwijzer::from_el(el.req("Verwijzer")?)?,
            raamcontract: el.get_opt("Raamcontract", |s| ListCode::parse("LDT_JaNee", s))?,
            commentaar: el.string_opt("Commentaar"),
        })
    }
    fn write_children(&self, w: &mut XmlOut) {
        w.leaf("ReferentieAanbieder", &self.referentie_aanbieder);
        w.leaf_opt("BeschikkingNummer", &self.beschikking_nummer);
        if let Some(p) = &self.product {
            p.write(w);
        }
        w.leaf_opt(
            "BeschikkingIngangsdatum",
            &self.beschikking_ingangsdatum.map(|d| fmt_date(&d)),
        );
        w.leaf(
            "ToewijzingIngangsdatum",
            fmt_date(&self.toewijzing_ingangsdatum),
        );
        w.leaf_opt(
            "ToewijzingEinddatum",
            &self.toewijzing_einddatum.map(|d| fmt_date(&d)),
        );
        if let Some(o) = &self.omvang {
            o.write(w);
        }
        w.leaf_opt("Budget", &self.budget.map(|b| b.cents()));
        self.verwijzer.write(w);
        w.leaf_opt("Raamcontract", &self.raamcontract);
        w.leaf_opt("Commentaar", &self.commentaar);
    }
}

/// The client of a 315 (`P` = AangevraagdProduct) or, wrapped in `Retour`, of a 316
/// (`P` = `Retour<AangevraagdProduct>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VotClient<P> {
    pub bsn: Bsn,
    pub geboortedatum: Geboortedatum,
    pub geslacht: Geslacht,
    pub naam: VerkorteNaam,
    pub commentaar: Option<String>,
    pub producten: Vec<P>,
}

impl<P: Class> Class for VotClient<P> {
    const NAME: &'static str = "Client";
    fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(VotClient {
            bsn: el.get("Bsn", Bsn::parse)?,
            geboortedatum: Geboortedatum::from_el(el.req("Geboortedatum")?)?,
            geslacht: el.get("Geslacht", Geslacht::parse)?,
            naam: VerkorteNaam::from_el(el.req("Naam")?)?,
            commentaar: el.string_opt("Commentaar"),
            producten: el
                .req("AangevraagdeProducten")?
                .all(P::NAME)
                .map(P::from_el)
                .collect::<Result<_, _>>()?,
        })
    }
    fn write_children(&self, w: &mut XmlOut) {
        w.leaf("Bsn", self.bsn.expose());
        self.geboortedatum.write(w);
        w.leaf("Geslacht", self.geslacht);
        self.naam.write(w);
        w.leaf_opt("Commentaar", &self.commentaar);
        w.open("AangevraagdeProducten");
        for p in &self.producten {
            p.write(w);
        }
        w.close("AangevraagdeProducten");
    }
}

/// OngewijzigdProduct (317/318): a current toewijzing that stays as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OngewijzigdProduct {
    pub toewijzing_nummer: ToewijzingNummer,
}

impl Class for OngewijzigdProduct {
    const NAME: &'static str = "OngewijzigdProduct";
    fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(OngewijzigdProduct {
            toewijzing_nummer: el.get("ToewijzingNummer", xml::nummer)?,
        })
    }
    fn write_children(&self, w: &mut XmlOut) {
        w.leaf("ToewijzingNummer", self.toewijzing_nummer);
    }
}

/// TeWijzigenProduct (317/318): a current toewijzing to be changed from GewensteIngangsdatum on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeWijzigenProduct {
    pub toewijzing_nummer: ToewijzingNummer,
    pub gewenste_ingangsdatum: NaiveDate,
    pub einddatum: Option<NaiveDate>,
    pub omvang: Option<Omvang>,
    /// Cents.
    pub budget: Option<Bedrag>,
}

impl Class for TeWijzigenProduct {
    const NAME: &'static str = "TeWijzigenProduct";
    fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(TeWijzigenProduct {
            toewijzing_nummer: el.get("ToewijzingNummer", xml::nummer)?,
            gewenste_ingangsdatum: el.get("GewensteIngangsdatum", xml::date)?,
            einddatum: el.get_opt("Einddatum", xml::date)?,
            omvang: el.opt("Omvang").map(Omvang::from_el).transpose()?,
            budget: el.get_opt("Budget", xml::bedrag)?,
        })
    }
    fn write_children(&self, w: &mut XmlOut) {
        w.leaf("ToewijzingNummer", self.toewijzing_nummer);
        w.leaf(
            "GewensteIngangsdatum",
            fmt_date(&self.gewenste_ingangsdatum),
        );
        w.leaf_opt("Einddatum", &self.einddatum.map(|d| fmt_date(&d)));
        if let Some(o) = &self.omvang {
            o.write(w);
        }
        w.leaf_opt("Budget", &self.budget.map(|b| b.cents()));
    }
}

/// NieuwProduct (317/318): an additional toewijzing requested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NieuwProduct {
    pub product: Option<Product>,
    pub gewenste_ingangsdatum: NaiveDate,
    pub einddatum: Option<NaiveDate>,
    pub omvang: Option<Omvang>,
    /// Cents.
    pub budget: Option<Bedrag>,
}

impl Class for NieuwProduct {
    const NAME: &'static str = "NieuwProduct";
    fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(NieuwProduct {
            product: el.opt("Product").map(Product::from_el).transpose()?,
            gewenste_ingangsdatum: el.get("GewensteIngangsdatum", xml::date)?,
            einddatum: el.get_opt("Einddatum", xml::date)?,
            omvang: el.opt("Omvang").map(Omvang::from_el).transpose()?,
            budget: el.get_opt("Budget", xml::bedrag)?,
        })
    }
    fn write_children(&self, w: &mut XmlOut) {
        if let Some(p) = &self.product {
            p.write(w);
        }
        w.leaf(
            "GewensteIngangsdatum",
            fmt_date(&self.gewenste_ingangsdatum),
        );
        w.leaf_opt("Einddatum", &self.einddatum.map(|d| fmt_date(&d)));
        if let Some(o) = &self.omvang {
            o.write(w);
        }
        w.leaf_opt("Budget", &self.budget.map(|b| b.cents()));
    }
}

/// Verzoek (317) with its three product lists; in a 318 every class is `Retour<…>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verzoek<O, T, N> {
    /// LDT_Referentie, kept exactly as sent; one reference for the whole request (TR379).
    pub referentie_aanbieder: String,
    /// LDT_RedenVerzoek: 1 verandering cliëntsituatie, 2 wijziging zorgplan.
    pub reden_verzoek: ListCode,
    pub ongewijzigde_producten: Vec<O>,
    pub te_wijzigen_producten: Vec<T>,
    pub nieuwe_producten: Vec<N>,
}

fn list<C: Class>(el: El<'_, '_>, wrapper: &str) -> Result<Vec<C>, ConvertError> {
    match el.opt(wrapper) {
        None => Ok(Vec::new()),
        Some(l) => l.all(C::NAME).map(C::from_el).collect(),
    }
}

fn write_list<C: Class>(w: &mut XmlOut, wrapper: &str, items: &[C]) {
    if items.is_empty() {
        return;
    }
    w.open(wrapper);
    for i in items {
        i.write(w);
    }
    w.close(wrapper);
}

impl<O: Class, T: Class, N: Class> Class for Verzoek<O, T, N> {
    const NAME: &'static str = "Verzoek";
    fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(Verzoek {
            referentie_aanbieder: el.string("ReferentieAanbieder")?,
            reden_verzoek: el.get("RedenVerzoek", |s| ListCode::parse("LDT_RedenVerzoek", s))?,
            ongewijzigde_producten: list(el, "OngewijzigdeProducten")?,
            te_wijzigen_producten: list(el, "TeWijzigenProducten")?,
            nieuwe_producten: list(el, "NieuweProducten")?,
        })
    }
    fn write_children(&self, w: &mut XmlOut) {
        w.leaf("ReferentieAanbieder", &self.referentie_aanbieder);
        w.leaf("RedenVerzoek", self.reden_verzoek);
        write_list(w, "OngewijzigdeProducten", &self.ongewijzigde_producten);
        write_list(w, "TeWijzigenProducten", &self.te_wijzigen_producten);
        write_list(w, "NieuweProducten", &self.nieuwe_producten);
    }
}

/// The client of a 317 (only the Bsn and the Verzoek).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VowClient<V> {
    pub bsn: Bsn,
    pub verzoek: V,
}

impl<V: Class> Class for VowClient<V> {
    const NAME: &'static str = "Client";
    fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(VowClient {
            bsn: el.get("Bsn", Bsn::parse)?,
            verzoek: V::from_el(el.req("Verzoek")?)?,
        })
    }
    fn write_children(&self, w: &mut XmlOut) {
        w.leaf("Bsn", self.bsn.expose());
        self.verzoek.write(w);
    }
}

/// The Verzoek of a 317.
pub type Verzoek317 = Verzoek<OngewijzigdProduct, TeWijzigenProduct, NieuwProduct>;
/// The mirrored Verzoek of a 318: every product class carries RetourCodes.
pub type Verzoek318 =
    Verzoek<Retour<OngewijzigdProduct>, Retour<TeWijzigenProduct>, Retour<NieuwProduct>>;

/// WMO315 Verzoek om toewijzing (aanbieder → gemeente).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wmo315 {
    pub header: AanbiederHeader,
    pub client: VotClient<AangevraagdProduct>,
}

/// WMO316 VOT retour (gemeente → aanbieder; header copied from the 315).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wmo316 {
    pub header: RetourHeader<AgbCode, Gemeentecode>,
    pub client: Option<Retour<VotClient<Retour<AangevraagdProduct>>>>,
}

/// WMO317 Verzoek om wijziging (aanbieder → gemeente).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wmo317 {
    pub header: AanbiederHeader,
    pub client: VowClient<Verzoek317>,
}

/// WMO318 VOW retour (gemeente → aanbieder; header copied from the 317).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wmo318 {
    pub header: RetourHeader<AgbCode, Gemeentecode>,
    pub client: Option<Retour<VowClient<Retour<Verzoek318>>>>,
}

fn write_heen(number: u16, code: u16, header: &AanbiederHeader, client: &impl Class) -> String {
    let mut w = XmlOut::new(number);
    w.open("Header");
    header.write_fields(&mut w, code);
    w.close("Header");
    client.write(&mut w);
    w.finish()
}

fn write_retour<C: Class>(
    number: u16,
    code: u16,
    header: &RetourHeader<AgbCode, Gemeentecode>,
    client: &Option<C>,
) -> String {
    let mut w = XmlOut::new(number);
    header.write(&mut w, code);
    if let Some(c) = client {
        c.write(&mut w);
    }
    w.finish()
}

impl Wmo315 {
    pub fn from_doc(root: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(Wmo315 {
            header: Header::from_el(root.req("Header")?)?,
            client: VotClient::from_el(root.req("Client")?)?,
        })
    }
    pub fn to_xml(&self) -> String {
        write_heen(315, 444, &self.header, &self.client)
    }
}

impl Wmo316 {
    pub fn from_doc(root: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(Wmo316 {
            header: RetourHeader::from_el(root.req("Header")?)?,
            client: root.opt("Client").map(Retour::from_el).transpose()?,
        })
    }
    pub fn to_xml(&self) -> String {
        write_retour(316, 445, &self.header, &self.client)
    }
}

impl Wmo317 {
    pub fn from_doc(root: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(Wmo317 {
            header: Header::from_el(root.req("Header")?)?,
            client: VowClient::from_el(root.req("Client")?)?,
        })
    }
    pub fn to_xml(&self) -> String {
        write_heen(317, 480, &self.header, &self.client)
    }
}

impl Wmo318 {
    pub fn from_doc(root: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(Wmo318 {
            header: RetourHeader::from_el(root.req("Header")?)?,
            client: root.opt("Client").map(Retour::from_el).transpose()?,
        })
    }
    pub fn to_xml(&self) -> String {
        write_retour(318, 481, &self.header, &self.client)
    }
}
