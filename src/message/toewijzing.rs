//! WMO301 Toewijzing (the municipality's own allocations) and WMO302 Toewijzing retour.

use std::fmt;

use chrono::{NaiveDate, NaiveTime};

use super::common::*;
use super::xml::{self, fmt_date, fmt_time, ConvertError, El, XmlOut};
use crate::domain::*;

/// CDT_Communicatie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Communicatie {
    pub vorm: ListCode,
    pub taal: Option<String>,
}

/// CDT_Huis.
#[derive(Clone, PartialEq, Eq)]
pub struct Huis {
    pub huisnummer: u32,
    pub huisletter: Option<String>,
    pub huisnummer_toevoeging: Option<String>,
    pub aanduiding_woonadres: Option<ListCode>,
}

/// CDT_Adres. Personal data: Debug shows nothing of it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Adres {
    pub huis: Option<Huis>,
    pub postcode: Option<String>,
    pub straatnaam: Option<String>,
    pub plaatsnaam: Option<String>,
    pub land_code: Option<ListCode>,
}

impl fmt::Debug for Adres {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Adres(…)")
    }
}

/// CDT_Telefoon.
#[derive(Clone, PartialEq, Eq)]
pub struct Telefoon {
    pub telefoonnummer: String,
    pub landnummer: String,
}

/// Contact (Soort 01 BRP, 02 correspondentie, 03 verblijf, 04 tijdelijk).
#[derive(Clone, PartialEq, Eq)]
pub struct Contact {
    pub soort: ListCode,
    pub adres: Option<Adres>,
    pub organisatie: Option<String>,
    /// Telefoon01 and optional Telefoon02.
    pub telefoon: Option<(Telefoon, Option<Telefoon>)>,
    pub emailadres: Option<String>,
    pub periode: Option<OpenPeriode>,
}

impl fmt::Debug for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Contact(Soort {}, …)", self.soort)
    }
}

fn telefoon(el: El<'_, '_>) -> Result<Telefoon, ConvertError> {
    Ok(Telefoon {
        telefoonnummer: el.string("Telefoonnummer")?,
        landnummer: el.string("Landnummer")?,
    })
}

fn write_telefoon(w: &mut XmlOut, name: &str, t: &Telefoon) {
    w.bopen(name);
    w.bleaf("Telefoonnummer", &t.telefoonnummer);
    w.bleaf("Landnummer", &t.landnummer);
    w.bclose(name);
}

impl Class for Contact {
    const NAME: &'static str = "Contact";
    fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError> {
        let adres = match el.opt("Adres") {
            None => None,
            Some(a) => Some(Adres {
                huis: match a.opt("Huis") {
                    None => None,
                    Some(h) => Some(Huis {
                        huisnummer: h.get("Huisnummer", xml::small)?,
                        huisletter: h.string_opt("Huisletter"),
                        huisnummer_toevoeging: h.string_opt("HuisnummerToevoeging"),
                        aanduiding_woonadres: h.get_opt("AanduidingWoonadres", |s| {
                            ListCode::parse("LDT_AanduidingWoonadres", s)
                        })?,
                    }),
                },
                postcode: a.string_opt("Postcode"),
                straatnaam: a.string_opt("Straatnaam"),
                plaatsnaam: a.string_opt("Plaatsnaam"),
                land_code: a.get_opt("LandCode", |s| ListCode::parse("LDT_LandCode", s))?,
            }),
        };
        Ok(Contact {
            soort: el.get("Soort", |s| ListCode::parse("LDT_AdresSoort", s))?,
            adres,
            organisatie: el.string_opt("Organisatie"),
            telefoon: match el.opt("Telefoon") {
                None => None,
                Some(t) => Some((
                    telefoon(t.req("Telefoon01")?)?,
                    t.opt("Telefoon02").map(telefoon).transpose()?,
                )),
            },
            emailadres: el.string_opt("Emailadres"),
            periode: match el.opt("Periode") {
                None => None,
                Some(p) => Some(OpenPeriode {
                    begindatum: p.get_opt("Begindatum", xml::date)?,
                    einddatum: p.get_opt("Einddatum", xml::date)?,
                }),
            },
        })
    }
    fn write_children(&self, w: &mut XmlOut) {
        w.leaf("Soort", self.soort);
        if let Some(a) = &self.adres {
            w.open("Adres");
            if let Some(h) = &a.huis {
                w.bopen("Huis");
                w.bleaf("Huisnummer", h.huisnummer);
                w.bleaf_opt("Huisletter", &h.huisletter);
                w.bleaf_opt("HuisnummerToevoeging", &h.huisnummer_toevoeging);
                w.bleaf_opt("AanduidingWoonadres", &h.aanduiding_woonadres);
                w.bclose("Huis");
            }
            w.bleaf_opt("Postcode", &a.postcode);
            w.bleaf_opt("Straatnaam", &a.straatnaam);
            w.bleaf_opt("Plaatsnaam", &a.plaatsnaam);
            w.bleaf_opt("LandCode", &a.land_code);
            w.close("Adres");
        }
        w.leaf_opt("Organisatie", &self.organisatie);
        if let Some((t1, t2)) = &self.telefoon {
            w.open("Telefoon");
            write_telefoon(w, "Telefoon01", t1);
            if let Some(t2) = t2 {
                write_telefoon(w, "Telefoon02", t2);
            }
            w.close("Telefoon");
        }
        w.leaf_opt("Emailadres", &self.emailadres);
        if let Some(p) = &self.periode {
            w.open("Periode");
            w.bleaf_opt("Begindatum", &p.begindatum.map(|d| fmt_date(&d)));
            w.bleaf_opt("Einddatum", &p.einddatum.map(|d| fmt_date(&d)));
            w.close("Periode");
        }
    }
}

/// Relatie of the client (301).
#[derive(Clone, PartialEq, Eq)]
pub struct Relatie<C> {
    pub nummer: String,
    pub volgorde: Option<u32>,
    pub soort: ListCode,
    pub geboortedatum: Option<Geboortedatum>,
    pub geslacht: Option<Geslacht>,
    pub naam: VolledigeNaam,
    pub contact: C,
}

impl<C> fmt::Debug for Relatie<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Relatie(Soort {}, …)", self.soort)
    }
}

impl<C: Class> Class for Relatie<C> {
    const NAME: &'static str = "Relatie";
    fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(Relatie {
            nummer: el.string("Nummer")?,
            volgorde: el.get_opt("Volgorde", xml::small)?,
            soort: el.get("Soort", |s| ListCode::parse("LDT_SoortRelatie", s))?,
            geboortedatum: el
                .opt("Geboortedatum")
                .map(Geboortedatum::from_el)
                .transpose()?,
            geslacht: el.get_opt("Geslacht", Geslacht::parse)?,
            naam: VolledigeNaam::from_el(el.req("Naam")?)?,
            contact: C::from_el(el.req("Contact")?)?,
        })
    }
    fn write_children(&self, w: &mut XmlOut) {
        w.leaf("Nummer", &self.nummer);
        w.leaf_opt("Volgorde", &self.volgorde);
        w.leaf("Soort", self.soort);
        if let Some(g) = &self.geboortedatum {
            g.write(w);
        }
        w.leaf_opt("Geslacht", &self.geslacht);
        self.naam.write(w);
        self.contact.write(w);
    }
}

/// ToegewezenProduct: one toewijzing. The latest Toewijzingsdatum + Toewijzingstijd wins (IV013).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToegewezenProduct {
    pub toewijzing_nummer: ToewijzingNummer,
    pub referentie_aanbieder: Option<String>,
    pub product: Option<Product>,
    pub toewijzingsdatum: NaiveDate,
    pub toewijzingstijd: NaiveTime,
    pub ingangsdatum: NaiveDate,
    pub einddatum: Option<NaiveDate>,
    pub reden_wijziging: Option<RedenWijziging>,
    pub omvang: Option<Omvang>,
    pub budget: Option<Bedrag>,
    pub commentaar: Option<String>,
}

impl ToegewezenProduct {
    /// Deleted toewijzing: RedenWijziging 13 (or legacy 01) with Einddatum = Ingangsdatum.
    pub fn is_verwijderd(&self) -> bool {
        matches!(
            self.reden_wijziging,
            Some(RedenWijziging::Verwijderd | RedenWijziging::AdministratieveCorrectieVervallen)
        ) && self.einddatum == Some(self.ingangsdatum)
    }
}

impl Class for ToegewezenProduct {
    const NAME: &'static str = "ToegewezenProduct";
    fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(ToegewezenProduct {
            toewijzing_nummer: el.get("ToewijzingNummer", xml::nummer)?,
            referentie_aanbieder: el.string_opt("ReferentieAanbieder"),
            product: el.opt("Product").map(Product::from_el).transpose()?,
            toewijzingsdatum: el.get("Toewijzingsdatum", xml::date)?,
            toewijzingstijd: el.get("Toewijzingstijd", xml::time)?,
            ingangsdatum: el.get("Ingangsdatum", xml::date)?,
            einddatum: el.get_opt("Einddatum", xml::date)?,
            reden_wijziging: el.get_opt("RedenWijziging", RedenWijziging::parse)?,
            omvang: el.opt("Omvang").map(Omvang::from_el).transpose()?,
            budget: el.get_opt("Budget", xml::bedrag)?,
            commentaar: el.string_opt("Commentaar"),
        })
    }
    fn write_children(&self, w: &mut XmlOut) {
        w.leaf("ToewijzingNummer", self.toewijzing_nummer);
        w.leaf_opt("ReferentieAanbieder", &self.referentie_aanbieder);
        if let Some(p) = &self.product {
            p.write(w);
        }
        w.leaf("Toewijzingsdatum", fmt_date(&self.toewijzingsdatum));
        w.leaf("Toewijzingstijd", fmt_time(&self.toewijzingstijd));
        w.leaf("Ingangsdatum", fmt_date(&self.ingangsdatum));
        w.leaf_opt("Einddatum", &self.einddatum.map(|d| fmt_date(&d)));
        w.leaf_opt("RedenWijziging", &self.reden_wijziging);
        if let Some(o) = &self.omvang {
            o.write(w);
        }
        w.leaf_opt("Budget", &self.budget.map(|b| b.cents()));
        w.leaf_opt("Commentaar", &self.commentaar);
    }
}

/// Classes of a 301 client, or their mirrored forms in a 302.
pub trait ToewijzingClasses {
    type Relatie: Class;
    type Contact: Class;
    type Product: Class;
}

/// 301 classes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heen;
impl ToewijzingClasses for Heen {
    type Relatie = Relatie<Contact>;
    type Contact = Contact;
    type Product = ToegewezenProduct;
}

/// 302 classes: every class carries RetourCodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terug;
impl ToewijzingClasses for Terug {
    type Relatie = Retour<Relatie<Retour<Contact>>>;
    type Contact = Retour<Contact>;
    type Product = Retour<ToegewezenProduct>;
}

/// The client of a 301 (K = Heen) or of a 302 (K = Terug, then wrapped in `Retour`).
pub struct ToewijzingClient<K: ToewijzingClasses> {
    pub bsn: Bsn,
    pub geboortedatum: Geboortedatum,
    pub geslacht: Geslacht,
    pub naam: VolledigeNaam,
    pub communicatie: Option<Communicatie>,
    pub juridische_status: Option<ListCode>,
    pub wettelijke_vertegenwoordiging: Option<ListCode>,
    pub commentaar: Option<String>,
    pub relaties: Vec<K::Relatie>,
    pub contactgegevens: Vec<K::Contact>,
    pub toegewezen_producten: Vec<K::Product>,
}

macro_rules! client_impls {
    ($k:ty) => {
        impl Clone for ToewijzingClient<$k> {
            fn clone(&self) -> Self {
                ToewijzingClient {
                    bsn: self.bsn,
                    geboortedatum: self.geboortedatum,
                    geslacht: self.geslacht,
                    naam: self.naam.clone(),
                    communicatie: self.communicatie.clone(),
                    juridische_status: self.juridische_status,
                    wettelijke_vertegenwoordiging: self.wettelijke_vertegenwoordiging,
                    commentaar: self.commentaar.clone(),
                    relaties: self.relaties.clone(),
                    contactgegevens: self.contactgegevens.clone(),
                    toegewezen_producten: self.toegewezen_producten.clone(),
                }
            }
        }
        impl PartialEq for ToewijzingClient<$k> {
            fn eq(&self, o: &Self) -> bool {
                self.bsn == o.bsn
                    && self.geboortedatum == o.geboortedatum
                    && self.geslacht == o.geslacht
                    && self.naam == o.naam
                    && self.communicatie == o.communicatie
                    && self.juridische_status == o.juridische_status
                    && self.wettelijke_vertegenwoordiging == o.wettelijke_vertegenwoordiging
                    && self.commentaar == o.commentaar
                    && self.relaties == o.relaties
                    && self.contactgegevens == o.contactgegevens
                    && self.toegewezen_producten == o.toegewezen_producten
            }
        }
        impl Eq for ToewijzingClient<$k> {}
        impl fmt::Debug for ToewijzingClient<$k> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct("ToewijzingClient")
                    .field("bsn", &self.bsn)
                    .field("toegewezen_producten", &self.toegewezen_producten)
                    .finish_non_exhaustive()
            }
        }
    };
}
client_impls!(Heen);
client_impls!(Terug);

impl<K: ToewijzingClasses> Class for ToewijzingClient<K> {
    const NAME: &'static str = "Client";
    fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(ToewijzingClient {
            bsn: el.get("Bsn", Bsn::parse)?,
            geboortedatum: Geboortedatum::from_el(el.req("Geboortedatum")?)?,
            geslacht: el.get("Geslacht", Geslacht::parse)?,
            naam: VolledigeNaam::from_el(el.req("Naam")?)?,
            communicatie: match el.opt("Communicatie") {
                None => None,
                Some(c) => Some(Communicatie {
                    vorm: c.get("Vorm", |s| ListCode::parse("LDT_Communicatievorm", s))?,
                    taal: c.string_opt("Taal"),
                }),
            },
            juridische_status: el.get_opt("JuridischeStatus", |s| {
                ListCode::parse("LDT_JuridischeStatus", s)
            })?,
            wettelijke_vertegenwoordiging: el.get_opt("WettelijkeVertegenwoordiging", |s| {
                ListCode::parse("LDT_WettelijkeVertegenwoordiging", s)
            })?,
            commentaar: el.string_opt("Commentaar"),
            relaties: match el.opt("Relaties") {
                None => Vec::new(),
                Some(r) => r
                    .all("Relatie")
                    .map(K::Relatie::from_el)
                    .collect::<Result<_, _>>()?,
            },
            contactgegevens: el
                .req("Contactgegevens")?
                .all("Contact")
                .map(K::Contact::from_el)
                .collect::<Result<_, _>>()?,
            toegewezen_producten: el
                .req("ToegewezenProducten")?
                .all("ToegewezenProduct")
                .map(K::Product::from_el)
                .collect::<Result<_, _>>()?,
        })
    }
    fn write_children(&self, w: &mut XmlOut) {
        w.leaf("Bsn", self.bsn.expose());
        self.geboortedatum.write(w);
        w.leaf("Geslacht", self.geslacht);
        self.naam.write(w);
        if let Some(c) = &self.communicatie {
            w.open("Communicatie");
            w.bleaf("Vorm", c.vorm);
            w.bleaf_opt("Taal", &c.taal);
            w.close("Communicatie");
        }
        w.leaf_opt("JuridischeStatus", &self.juridische_status);
        w.leaf_opt(
            "WettelijkeVertegenwoordiging",
            &self.wettelijke_vertegenwoordiging,
        );
        w.leaf_opt("Commentaar", &self.commentaar);
        if !self.relaties.is_empty() {
            w.open("Relaties");
            for r in &self.relaties {
                r.write(w);
            }
            w.close("Relaties");
        }
        w.open("Contactgegevens");
        for c in &self.contactgegevens {
            c.write(w);
        }
        w.close("Contactgegevens");
        w.open("ToegewezenProducten");
        for p in &self.toegewezen_producten {
            p.write(w);
        }
        w.close("ToegewezenProducten");
    }
}

/// WMO301 Toewijzing (gemeente → aanbieder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wmo301 {
    pub header: GemeenteHeader,
    pub client: ToewijzingClient<Heen>,
}

/// WMO302 Toewijzing retour (aanbieder → gemeente).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wmo302 {
    pub header: RetourHeader<Gemeentecode, AgbCode>,
    pub client: Option<Retour<ToewijzingClient<Terug>>>,
}

impl Wmo301 {
    pub fn from_doc(root: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(Wmo301 {
            header: Header::from_el(root.req("Header")?)?,
            client: ToewijzingClient::from_el(root.req("Client")?)?,
        })
    }
    pub fn to_xml(&self) -> String {
        let mut w = XmlOut::new(301);
        w.open("Header");
        self.header.write_fields(&mut w, 414);
        w.close("Header");
        self.client.write(&mut w);
        w.finish()
    }
}

impl Wmo302 {
    pub fn from_doc(root: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(Wmo302 {
            header: RetourHeader::from_el(root.req("Header")?)?,
            client: root.opt("Client").map(Retour::from_el).transpose()?,
        })
    }
    pub fn to_xml(&self) -> String {
        let mut w = XmlOut::new(302);
        self.header.write(&mut w, 415);
        if let Some(c) = &self.client {
            c.write(&mut w);
        }
        w.finish()
    }
}
