//! Classes shared by several messages: headers, retour wrapping, and the basisschema CDTs.

use std::fmt;

use chrono::NaiveDate;

use super::xml::{self, fmt_date, ConvertError, El, XmlOut};
use crate::domain::*;

/// A class of a message (an element with children), readable from a validated document and
/// writable in XSD order.
pub trait Class: Sized {
    const NAME: &'static str;
    fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError>;
    fn write_children(&self, w: &mut XmlOut);
    fn write(&self, w: &mut XmlOut) {
        w.open(Self::NAME);
        self.write_children(w);
        w.close(Self::NAME);
    }
}

/// A class mirrored in a retour message: the class itself with `RetourCodes` as its last child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retour<T> {
    pub item: T,
    pub retour_codes: Vec<RetourCode>,
}

impl<T: Class> Class for Retour<T> {
    const NAME: &'static str = T::NAME;
    fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(Retour {
            item: T::from_el(el)?,
            retour_codes: retour_codes(el.req("RetourCodes")?)?,
        })
    }
    fn write_children(&self, w: &mut XmlOut) {
        self.item.write_children(w);
        write_retour_codes(w, &self.retour_codes);
    }
}

pub fn retour_codes(el: El<'_, '_>) -> Result<Vec<RetourCode>, ConvertError> {
    el.all("RetourCode")
        .map(|c| c.val(RetourCode::parse))
        .collect()
}

pub fn write_retour_codes(w: &mut XmlOut, codes: &[RetourCode]) {
    w.open("RetourCodes");
    for c in codes {
        w.leaf("RetourCode", c.code());
    }
    w.close("RetourCodes");
}

/// A code from one of the long code lists (SoortRelatie, LandCode, …), held as a reference into
/// the generated enumeration so that only listed values can exist.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ListCode(&'static str);

impl ListCode {
    pub fn parse(list: &'static str, s: &str) -> Result<ListCode, DomainError> {
        super::schema::tables::SIMPLE_TYPES
            .iter()
            .find(|t| t.name == list)
            .and_then(|t| t.enumeration.iter().find(|v| **v == s))
            .map(|v| ListCode(v))
            .ok_or_else(|| DomainError::new("Code", format!("geen waarde van {list}")))
    }
    pub fn code(&self) -> &'static str {
        self.0
    }
}

impl fmt::Display for ListCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Afzender/Ontvanger: an aanbieder (AGB code) or a gemeente (CBS code).
pub trait Party: Sized + Copy + fmt::Display + fmt::Debug + PartialEq {
    fn parse_party(s: &str) -> Result<Self, DomainError>;
}
impl Party for AgbCode {
    fn parse_party(s: &str) -> Result<Self, DomainError> {
        AgbCode::parse(s)
    }
}
impl Party for Gemeentecode {
    fn parse_party(s: &str) -> Result<Self, DomainError> {
        Gemeentecode::parse(s)
    }
}

/// CDT_BerichtIdentificatie.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BerichtIdentificatie {
    /// LDT_IdentificatieBericht, kept exactly as sent (1–12 characters).
    pub identificatie: String,
    pub dagtekening: NaiveDate,
}

impl BerichtIdentificatie {
    fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(BerichtIdentificatie {
            identificatie: el.string("Identificatie")?,
            dagtekening: el.get("Dagtekening", xml::date)?,
        })
    }
    fn write(&self, w: &mut XmlOut, name: &str) {
        w.open(name);
        w.bleaf("Identificatie", &self.identificatie);
        w.bleaf("Dagtekening", fmt_date(&self.dagtekening));
        w.close(name);
    }
}

/// CDT_XsdVersie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct XsdVersie {
    pub basisschema_xsd_versie: Versie,
    pub bericht_xsd_versie: Versie,
}

impl XsdVersie {
    pub fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(XsdVersie {
            basisschema_xsd_versie: el.get("BasisschemaXsdVersie", Versie::parse)?,
            bericht_xsd_versie: el.get("BerichtXsdVersie", Versie::parse)?,
        })
    }
    pub fn write(&self, w: &mut XmlOut, name: &str) {
        w.open(name);
        w.bleaf("BasisschemaXsdVersie", self.basisschema_xsd_versie);
        w.bleaf("BerichtXsdVersie", self.bericht_xsd_versie);
        w.close(name);
    }
    /// The versions of the XSDs this build was generated from (IV034).
    pub fn of_schema(number: u16) -> XsdVersie {
        let s = super::schema::schema_for(number);
        let v = |x: Option<&str>| {
            x.and_then(|x| Versie::parse(x).ok())
                .unwrap_or(Versie(1, 0, 0))
        };
        XsdVersie {
            basisschema_xsd_versie: v(s.map(|s| s.basisschema_xsd_versie)),
            bericht_xsd_versie: v(s.map(|s| s.bericht_xsd_versie)),
        }
    }
}

/// The header of a heenbericht (BerichtCode, -Versie and -Subversie are fixed by the kind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header<A, O> {
    pub afzender: A,
    pub ontvanger: O,
    pub bericht_identificatie: BerichtIdentificatie,
    pub xsd_versie: XsdVersie,
}

pub type AanbiederHeader = Header<AgbCode, Gemeentecode>;
pub type GemeenteHeader = Header<Gemeentecode, AgbCode>;

impl<A: Party, O: Party> Header<A, O> {
    pub fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(Header {
            afzender: el.get("Afzender", A::parse_party)?,
            ontvanger: el.get("Ontvanger", O::parse_party)?,
            bericht_identificatie: BerichtIdentificatie::from_el(el.req("BerichtIdentificatie")?)?,
            xsd_versie: XsdVersie::from_el(el.req("XsdVersie")?)?,
        })
    }
    /// Writes the seven standard elements (without opening/closing `Header`).
    pub fn write_fields(&self, w: &mut XmlOut, bericht_code: u16) {
        w.leaf("BerichtCode", bericht_code);
        w.leaf("BerichtVersie", 3);
        w.leaf("BerichtSubversie", 2);
        w.leaf("Afzender", self.afzender);
        w.leaf("Ontvanger", self.ontvanger);
        self.bericht_identificatie.write(w, "BerichtIdentificatie");
        self.xsd_versie.write(w, "XsdVersie");
    }
}

/// The header of a retour message (302, 306, 308): the heenbericht's header copied, plus the
/// retour's own identification and codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetourHeader<A, O> {
    pub heen: Header<A, O>,
    pub identificatie_retour: String,
    pub dagtekening_retour: NaiveDate,
    pub xslt_versie: Option<Versie>,
    pub xsd_versie_retour: XsdVersie,
    pub retour_codes: Vec<RetourCode>,
}

impl<A: Party, O: Party> RetourHeader<A, O> {
    pub fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(RetourHeader {
            heen: Header::from_el(el)?,
            identificatie_retour: el.string("IdentificatieRetour")?,
            dagtekening_retour: el.get("DagtekeningRetour", xml::date)?,
            xslt_versie: el.get_opt("XsltVersie", Versie::parse)?,
            xsd_versie_retour: XsdVersie::from_el(el.req("XsdVersieRetour")?)?,
            retour_codes: match el.opt("RetourCodes") {
                Some(c) => retour_codes(c)?,
                None => Vec::new(),
            },
        })
    }
    pub fn write(&self, w: &mut XmlOut, bericht_code: u16) {
        w.open("Header");
        self.heen.write_fields(w, bericht_code);
        w.leaf("IdentificatieRetour", &self.identificatie_retour);
        w.leaf("DagtekeningRetour", fmt_date(&self.dagtekening_retour));
        w.leaf_opt("XsltVersie", &self.xslt_versie);
        self.xsd_versie_retour.write(w, "XsdVersieRetour");
        if !self.retour_codes.is_empty() {
            write_retour_codes(w, &self.retour_codes);
        }
        w.close("Header");
    }
}

/// CDT_Geboortedatum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geboortedatum {
    pub datum: NaiveDate,
    pub datum_gebruik: Option<DatumGebruik>,
}

impl Geboortedatum {
    pub fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(Geboortedatum {
            datum: el.get("Datum", xml::date)?,
            datum_gebruik: el.get_opt("DatumGebruik", DatumGebruik::parse)?,
        })
    }
    pub fn write(&self, w: &mut XmlOut) {
        w.open("Geboortedatum");
        w.bleaf("Datum", fmt_date(&self.datum));
        w.bleaf_opt("DatumGebruik", &self.datum_gebruik);
        w.close("Geboortedatum");
    }
}

/// CDT_Achternaam. Personal data: no Debug output of the contents.
#[derive(Clone, PartialEq, Eq)]
pub struct Achternaam {
    pub achternaam: String,
    pub voorvoegsel: Option<String>,
}

impl fmt::Debug for Achternaam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Achternaam(…)")
    }
}

impl Achternaam {
    pub fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(Achternaam {
            achternaam: el.string("Achternaam")?,
            voorvoegsel: el.string_opt("Voorvoegsel"),
        })
    }
    pub fn write(&self, w: &mut XmlOut, name: &str) {
        w.bopen(name);
        w.bleaf("Achternaam", &self.achternaam);
        w.bleaf_opt("Voorvoegsel", &self.voorvoegsel);
        w.bclose(name);
    }
}

/// CDT_VerkorteNaam (305/307).
#[derive(Clone, PartialEq, Eq)]
pub struct VerkorteNaam {
    pub geslachtsnaam: Achternaam,
    pub voornamen: Option<String>,
    pub voorletters: Option<String>,
}

impl fmt::Debug for VerkorteNaam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerkorteNaam(…)")
    }
}

impl VerkorteNaam {
    pub fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(VerkorteNaam {
            geslachtsnaam: Achternaam::from_el(el.req("Geslachtsnaam")?)?,
            voornamen: el.string_opt("Voornamen"),
            voorletters: el.string_opt("Voorletters"),
        })
    }
    pub fn write(&self, w: &mut XmlOut) {
        w.open("Naam");
        self.geslachtsnaam.write(w, "Geslachtsnaam");
        w.bleaf_opt("Voornamen", &self.voornamen);
        w.bleaf_opt("Voorletters", &self.voorletters);
        w.close("Naam");
    }
}

/// CDT_VolledigeNaam (301).
#[derive(Clone, PartialEq, Eq)]
pub struct VolledigeNaam {
    pub geslachtsnaam: Achternaam,
    pub partnernaam: Option<Achternaam>,
    pub voornamen: Option<String>,
    pub voorletters: Option<String>,
    pub naam_gebruik: NaamGebruik,
}

impl fmt::Debug for VolledigeNaam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VolledigeNaam(…, NaamGebruik {})", self.naam_gebruik)
    }
}

impl VolledigeNaam {
    pub fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(VolledigeNaam {
            geslachtsnaam: Achternaam::from_el(el.req("Geslachtsnaam")?)?,
            partnernaam: el.opt("Partnernaam").map(Achternaam::from_el).transpose()?,
            voornamen: el.string_opt("Voornamen"),
            voorletters: el.string_opt("Voorletters"),
            naam_gebruik: el.get("NaamGebruik", NaamGebruik::parse)?,
        })
    }
    pub fn write(&self, w: &mut XmlOut) {
        w.open("Naam");
        self.geslachtsnaam.write(w, "Geslachtsnaam");
        if let Some(p) = &self.partnernaam {
            p.write(w, "Partnernaam");
        }
        w.bleaf_opt("Voornamen", &self.voornamen);
        w.bleaf_opt("Voorletters", &self.voorletters);
        w.bleaf("NaamGebruik", self.naam_gebruik);
        w.close("Naam");
    }
}

/// CDT_Product: Categorie plus optional Code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Product {
    pub categorie: ProductCategorie,
    pub code: Option<ProductCode>,
}

impl Product {
    pub fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(Product {
            categorie: el.get("Categorie", ProductCategorie::parse)?,
            code: el.get_opt("Code", ProductCode::parse)?,
        })
    }
    pub fn write(&self, w: &mut XmlOut) {
        w.open("Product");
        w.bleaf("Categorie", self.categorie);
        w.bleaf_opt("Code", &self.code);
        w.close("Product");
    }
}

/// LDT_ProductCode: 1–5 characters, not blank.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct ProductCode(String);

impl TryFrom<String> for ProductCode {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, DomainError> {
        ProductCode::parse(&s)
    }
}

impl From<ProductCode> for String {
    fn from(p: ProductCode) -> String {
        p.0
    }
}

impl ProductCode {
    pub fn parse(s: &str) -> Result<ProductCode, DomainError> {
        let n = s.chars().count();
        if n == 0 || n > 5 || s.contains(['\n', '\r']) || s.trim().is_empty() {
            return Err(DomainError::new("ProductCode", "1 tot 5 tekens, niet leeg"));
        }
        Ok(ProductCode(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProductCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// CDT_Omvang.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Omvang {
    pub volume: Volume,
    pub eenheid: Eenheid,
    pub frequentie: Frequentie,
}

impl Omvang {
    pub fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(Omvang {
            volume: el.get("Volume", xml::volume)?,
            eenheid: el.get("Eenheid", Eenheid::parse)?,
            frequentie: el.get("Frequentie", Frequentie::parse)?,
        })
    }
    pub fn write(&self, w: &mut XmlOut) {
        w.open("Omvang");
        w.bleaf("Volume", self.volume.get());
        w.bleaf("Eenheid", self.eenheid);
        w.bleaf("Frequentie", self.frequentie);
        w.close("Omvang");
    }
}

pub fn periode(el: El<'_, '_>) -> Result<Periode, ConvertError> {
    Ok(Periode {
        begindatum: el.get("Begindatum", xml::date)?,
        einddatum: el.get("Einddatum", xml::date)?,
    })
}

pub fn write_periode(w: &mut XmlOut, name: &str, p: &Periode) {
    w.open(name);
    w.bleaf("Begindatum", fmt_date(&p.begindatum));
    w.bleaf("Einddatum", fmt_date(&p.einddatum));
    w.close(name);
}

pub fn bedrag_met_dc(el: El<'_, '_>) -> Result<BedragMetDc, ConvertError> {
    Ok(BedragMetDc {
        bedrag: el.get("Bedrag", xml::bedrag)?,
        debet_credit: el.get("DebetCredit", DebetCredit::parse)?,
    })
}

pub fn write_bedrag_met_dc(w: &mut XmlOut, name: &str, b: &BedragMetDc) {
    w.open(name);
    w.bleaf("Bedrag", b.bedrag.cents());
    w.bleaf("DebetCredit", b.debet_credit);
    w.close(name);
}

pub fn totaal_bedrag_met_dc(el: El<'_, '_>) -> Result<TotaalBedragMetDc, ConvertError> {
    Ok(TotaalBedragMetDc {
        totaal_bedrag: el.get("TotaalBedrag", xml::totaal)?,
        debet_credit: el.get("DebetCredit", DebetCredit::parse)?,
    })
}

pub fn write_totaal_bedrag_met_dc(w: &mut XmlOut, name: &str, b: &TotaalBedragMetDc) {
    w.open(name);
    w.bleaf("TotaalBedrag", b.totaal_bedrag.cents());
    w.bleaf("DebetCredit", b.debet_credit);
    w.close(name);
}
