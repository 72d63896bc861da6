//! WMO323 Declaratie and WMO325 Declaratie-antwoord.

use super::common::*;
use super::xml::{self, ConvertError, El, XmlOut};
use crate::domain::*;

/// CDT_Referentie: ReferentieNummer plus, on credits only, VorigReferentieNummer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProductReferentie {
    pub referentie_nummer: String,
    pub vorig_referentie_nummer: Option<String>,
}

/// A Prestatie (323; mirrored unchanged in a 325 with RetourCodes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prestatie {
    pub product_referentie: ProductReferentie,
    pub toewijzing_nummer: ToewijzingNummer,
    pub product_categorie: ProductCategorie,
    pub product_code: ProductCode,
    pub product_periode: Periode,
    pub geleverd_volume: Volume,
    pub eenheid: Eenheid,
    pub product_tarief: Option<Bedrag>,
    pub ingediend_bedrag: BedragMetDc,
}

impl Prestatie {
    pub fn is_credit(&self) -> bool {
        self.ingediend_bedrag.debet_credit == DebetCredit::Credit
    }
}

impl Class for Prestatie {
    const NAME: &'static str = "Prestatie";
    fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError> {
        let r = el.req("ProductReferentie")?;
        Ok(Prestatie {
            product_referentie: ProductReferentie {
                referentie_nummer: r.string("ReferentieNummer")?,
                vorig_referentie_nummer: r.string_opt("VorigReferentieNummer"),
            },
            toewijzing_nummer: el.get("ToewijzingNummer", xml::nummer)?,
            product_categorie: el.get("ProductCategorie", ProductCategorie::parse)?,
            product_code: el.get("ProductCode", ProductCode::parse)?,
            product_periode: periode(el.req("ProductPeriode")?)?,
            geleverd_volume: el.get("GeleverdVolume", xml::volume)?,
            eenheid: el.get("Eenheid", Eenheid::parse)?,
            product_tarief: el.get_opt("ProductTarief", xml::bedrag)?,
            ingediend_bedrag: bedrag_met_dc(el.req("IngediendBedrag")?)?,
        })
    }
    fn write_children(&self, w: &mut XmlOut) {
        w.open("ProductReferentie");
        w.bleaf(
            "ReferentieNummer",
            &self.product_referentie.referentie_nummer,
        );
        w.bleaf_opt(
            "VorigReferentieNummer",
            &self.product_referentie.vorig_referentie_nummer,
        );
        w.close("ProductReferentie");
        w.leaf("ToewijzingNummer", self.toewijzing_nummer);
        w.leaf("ProductCategorie", self.product_categorie);
        w.leaf("ProductCode", &self.product_code);
        write_periode(w, "ProductPeriode", &self.product_periode);
        w.leaf("GeleverdVolume", self.geleverd_volume.get());
        w.leaf("Eenheid", self.eenheid);
        w.leaf_opt("ProductTarief", &self.product_tarief.map(|t| t.cents()));
        write_bedrag_met_dc(w, "IngediendBedrag", &self.ingediend_bedrag);
    }
}

/// A client in a declaration with its Prestaties (`P` = Prestatie or `Retour<Prestatie>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaratieClient<P> {
    pub bsn: Bsn,
    pub prestaties: Vec<P>,
}

impl<P: Class> Class for DeclaratieClient<P> {
    const NAME: &'static str = "Client";
    fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(DeclaratieClient {
            bsn: el.get("Bsn", Bsn::parse)?,
            prestaties: el
                .req("Prestaties")?
                .all("Prestatie")
                .map(P::from_el)
                .collect::<Result<_, _>>()?,
        })
    }
    fn write_children(&self, w: &mut XmlOut) {
        w.leaf("Bsn", self.bsn.expose());
        w.open("Prestaties");
        for p in &self.prestaties {
            p.write(w);
        }
        w.close("Prestaties");
    }
}

/// The Declaratie class of a 323.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaratie {
    /// 1–12 alphanumerics.
    pub declaratie_nummer: String,
    pub declaratie_periode: Periode,
    pub declaratie_dagtekening: chrono::NaiveDate,
    pub totaal_ingediend_bedrag: TotaalBedragMetDc,
    pub clienten: Vec<DeclaratieClient<Prestatie>>,
}

/// WMO323 Declaratie (aanbieder → gemeente).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wmo323 {
    pub header: AanbiederHeader,
    pub declaratie: Declaratie,
}

impl Wmo323 {
    pub fn from_doc(root: El<'_, '_>) -> Result<Self, ConvertError> {
        let d = root.req("Declaratie")?;
        Ok(Wmo323 {
            header: Header::from_el(root.req("Header")?)?,
            declaratie: Declaratie {
                declaratie_nummer: d.string("DeclaratieNummer")?,
                declaratie_periode: periode(d.req("DeclaratiePeriode")?)?,
                declaratie_dagtekening: d.get("DeclaratieDagtekening", xml::date)?,
                totaal_ingediend_bedrag: totaal_bedrag_met_dc(d.req("TotaalIngediendBedrag")?)?,
                clienten: d
                    .req("Clienten")?
                    .all("Client")
                    .map(DeclaratieClient::from_el)
                    .collect::<Result<_, _>>()?,
            },
        })
    }

    pub fn to_xml(&self) -> String {
        let mut w = XmlOut::new(323);
        w.open("Header");
        self.header.write_fields(&mut w, 484);
        w.close("Header");
        let d = &self.declaratie;
        w.open("Declaratie");
        w.leaf("DeclaratieNummer", &d.declaratie_nummer);
        write_periode(&mut w, "DeclaratiePeriode", &d.declaratie_periode);
        w.leaf(
            "DeclaratieDagtekening",
            xml::fmt_date(&d.declaratie_dagtekening),
        );
        write_totaal_bedrag_met_dc(&mut w, "TotaalIngediendBedrag", &d.totaal_ingediend_bedrag);
        w.open("Clienten");
        for c in &d.clienten {
            c.write(&mut w);
        }
        w.close("Clienten");
        w.close("Declaratie");
        w.finish()
    }

    /// All Prestaties with their client, in message order.
    pub fn prestaties(&self) -> impl Iterator<Item = (&DeclaratieClient<Prestatie>, &Prestatie)> {
        self.declaratie
            .clienten
            .iter()
            .flat_map(|c| c.prestaties.iter().map(move |p| (c, p)))
    }
}

/// The 325 header: the gemeente's own heenbericht header plus the 323's identification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header325 {
    pub header: GemeenteHeader,
    pub declaratie_identificatie: BerichtIdentificatie,
    pub xslt_versie: Option<Versie>,
    pub xsd_versie_declaratie: XsdVersie,
    pub retour_codes: Vec<RetourCode>,
}

/// DeclaratieAntwoord of a 325.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaratieAntwoord {
    pub declaratie_nummer: String,
    pub totaal_ingediend_bedrag: TotaalBedragMetDc,
    pub totaal_toegekend_bedrag: TotaalBedragMetDc,
    /// Only clients with rejected Prestaties (OP304), each with only its rejected Prestaties.
    pub clienten: Vec<Retour<DeclaratieClient<Retour<Prestatie>>>>,
    pub retour_codes: Vec<RetourCode>,
}

/// WMO325 Declaratie-antwoord (gemeente → aanbieder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wmo325 {
    pub header: Header325,
    pub declaratie_antwoord: Option<DeclaratieAntwoord>,
}

impl Wmo325 {
    pub fn from_doc(root: El<'_, '_>) -> Result<Self, ConvertError> {
        let h = root.req("Header")?;
        let header = Header325 {
            header: Header::from_el(h)?,
            declaratie_identificatie: {
                let d = h.req("DeclaratieIdentificatie")?;
                BerichtIdentificatie {
                    identificatie: d.string("Identificatie")?,
                    dagtekening: d.get("Dagtekening", xml::date)?,
                }
            },
            xslt_versie: h.get_opt("XsltVersie", Versie::parse)?,
            xsd_versie_declaratie: XsdVersie::from_el(h.req("XsdVersieDeclaratie")?)?,
            retour_codes: retour_codes(h.req("RetourCodes")?)?,
        };
        let declaratie_antwoord = match root.opt("DeclaratieAntwoord") {
            None => None,
            Some(a) => Some(DeclaratieAntwoord {
                declaratie_nummer: a.string("DeclaratieNummer")?,
                totaal_ingediend_bedrag: totaal_bedrag_met_dc(a.req("TotaalIngediendBedrag")?)?,
                totaal_toegekend_bedrag: totaal_bedrag_met_dc(a.req("TotaalToegekendBedrag")?)?,
                clienten: match a.opt("Clienten") {
                    None => Vec::new(),
                    Some(c) => c
                        .all("Client")
                        .map(Retour::from_el)
                        .collect::<Result<_, _>>()?,
                },
                retour_codes: retour_codes(a.req("RetourCodes")?)?,
            }),
        };
        Ok(Wmo325 {
            header,
            declaratie_antwoord,
        })
    }

    pub fn to_xml(&self) -> String {
        self.write(XmlOut::new(325))
    }

    /// Without indentation or line ends between elements (for an answer near the hubs' limit).
    pub fn to_xml_compact(&self) -> String {
        self.write(XmlOut::compact(325))
    }

    fn write(&self, mut w: XmlOut) -> String {
        let h = &self.header;
        w.open("Header");
        h.header.write_fields(&mut w, 485);
        w.open("DeclaratieIdentificatie");
        w.bleaf("Identificatie", &h.declaratie_identificatie.identificatie);
        w.bleaf(
            "Dagtekening",
            xml::fmt_date(&h.declaratie_identificatie.dagtekening),
        );
        w.close("DeclaratieIdentificatie");
        w.leaf_opt("XsltVersie", &h.xslt_versie);
        h.xsd_versie_declaratie.write(&mut w, "XsdVersieDeclaratie");
        write_retour_codes(&mut w, &h.retour_codes);
        w.close("Header");
        if let Some(a) = &self.declaratie_antwoord {
            w.open("DeclaratieAntwoord");
            w.leaf("DeclaratieNummer", &a.declaratie_nummer);
            write_totaal_bedrag_met_dc(&mut w, "TotaalIngediendBedrag", &a.totaal_ingediend_bedrag);
            write_totaal_bedrag_met_dc(&mut w, "TotaalToegekendBedrag", &a.totaal_toegekend_bedrag);
            if !a.clienten.is_empty() {
                w.open("Clienten");
                for c in &a.clienten {
                    c.write(&mut w);
                }
                w.close("Clienten");
            }
            write_retour_codes(&mut w, &a.retour_codes);
            w.close("DeclaratieAntwoord");
        }
        w.finish()
    }
}
