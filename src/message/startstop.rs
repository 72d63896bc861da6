//! WMO305 Start / WMO306 Start retour and WMO307 Stop / WMO308 Stop retour.

use chrono::NaiveDate;

use super::common::*;
use super::xml::{self, fmt_date, ConvertError, El, XmlOut};
use crate::domain::*;

/// The client of a start or stop message; `P` is the product class (StartProduct / StopProduct,
/// or their mirrored `Retour<…>` form in a 306/308).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMet<P> {
    pub bsn: Bsn,
    pub geboortedatum: Geboortedatum,
    pub geslacht: Geslacht,
    pub naam: VerkorteNaam,
    pub producten: Vec<P>,
}

/// Which list element a product class lives in.
pub trait ProductList: Class {
    const LIST: &'static str;
}

impl<P: ProductList> Class for ClientMet<P> {
    const NAME: &'static str = "Client";
    fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(ClientMet {
            bsn: el.get("Bsn", Bsn::parse)?,
            geboortedatum: Geboortedatum::from_el(el.req("Geboortedatum")?)?,
            geslacht: el.get("Geslacht", Geslacht::parse)?,
            naam: VerkorteNaam::from_el(el.req("Naam")?)?,
            producten: el
                .req(P::LIST)?
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
        w.open(P::LIST);
        for p in &self.producten {
            p.write(w);
        }
        w.close(P::LIST);
    }
}

impl<P: ProductList> ProductList for Retour<P> {
    const LIST: &'static str = P::LIST;
}

/// StartProduct (305/306). Logical key: (Bsn, ToewijzingNummer, Product, Begindatum).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartProduct {
    pub toewijzing_nummer: Option<ToewijzingNummer>,
    pub product: Option<Product>,
    pub toewijzing_ingangsdatum: Option<NaiveDate>,
    pub begindatum: NaiveDate,
    pub status_aanlevering: StatusAanlevering,
}

impl Class for StartProduct {
    const NAME: &'static str = "StartProduct";
    fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(StartProduct {
            toewijzing_nummer: el.get_opt("ToewijzingNummer", xml::nummer)?,
            product: el.opt("Product").map(Product::from_el).transpose()?,
            toewijzing_ingangsdatum: el.get_opt("ToewijzingIngangsdatum", xml::date)?,
            begindatum: el.get("Begindatum", xml::date)?,
            status_aanlevering: el.get("StatusAanlevering", StatusAanlevering::parse)?,
        })
    }
    fn write_children(&self, w: &mut XmlOut) {
        self.view().write(w);
    }
}

impl ProductList for StartProduct {
    const LIST: &'static str = "StartProducten";
}

/// StopProduct (307/308). Logical key since 3.2:
/// (Bsn, ToewijzingNummer, Product, Begindatum, RedenBeeindiging, Einddatum).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopProduct {
    pub toewijzing_nummer: Option<ToewijzingNummer>,
    pub product: Option<Product>,
    pub toewijzing_ingangsdatum: Option<NaiveDate>,
    pub begindatum: NaiveDate,
    pub reden_beeindiging: RedenBeeindiging,
    pub einddatum: NaiveDate,
    pub status_aanlevering: StatusAanlevering,
}

impl Class for StopProduct {
    const NAME: &'static str = "StopProduct";
    fn from_el(el: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(StopProduct {
            toewijzing_nummer: el.get_opt("ToewijzingNummer", xml::nummer)?,
            product: el.opt("Product").map(Product::from_el).transpose()?,
            toewijzing_ingangsdatum: el.get_opt("ToewijzingIngangsdatum", xml::date)?,
            begindatum: el.get("Begindatum", xml::date)?,
            reden_beeindiging: el.get("RedenBeeindiging", RedenBeeindiging::parse)?,
            einddatum: el.get("Einddatum", xml::date)?,
            status_aanlevering: el.get("StatusAanlevering", StatusAanlevering::parse)?,
        })
    }
    fn write_children(&self, w: &mut XmlOut) {
        self.view().write(w);
    }
}

impl ProductList for StopProduct {
    const LIST: &'static str = "StopProducten";
}

/// A StartProduct or StopProduct as one shape: the key of the start, for a stop its end, and
/// the StatusAanlevering. Lets the rules treat 305 and 307 with one piece of code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartStopView<'p> {
    pub toewijzing_nummer: Option<ToewijzingNummer>,
    pub product: Option<&'p Product>,
    pub toewijzing_ingangsdatum: Option<NaiveDate>,
    pub begindatum: NaiveDate,
    /// RedenBeeindiging and Einddatum of a stop; `None` for a start.
    pub einde: Option<(RedenBeeindiging, NaiveDate)>,
    pub status_aanlevering: StatusAanlevering,
}

impl StartStopView<'_> {
    /// The elements in XSD order (StartProduct and StopProduct share it).
    fn write(&self, w: &mut XmlOut) {
        w.leaf_opt("ToewijzingNummer", &self.toewijzing_nummer);
        if let Some(p) = self.product {
            p.write(w);
        }
        w.leaf_opt(
            "ToewijzingIngangsdatum",
            &self.toewijzing_ingangsdatum.map(|d| fmt_date(&d)),
        );
        w.leaf("Begindatum", fmt_date(&self.begindatum));
        if let Some((reden, einddatum)) = self.einde {
            w.leaf("RedenBeeindiging", reden);
            w.leaf("Einddatum", fmt_date(&einddatum));
        }
        w.leaf("StatusAanlevering", self.status_aanlevering);
    }
}

/// The product class of a 305 or 307 (StartProduct or StopProduct).
pub trait StartStopProduct: ProductList + Numbers {
    fn view(&self) -> StartStopView<'_>;
}

impl StartStopProduct for StartProduct {
    fn view(&self) -> StartStopView<'_> {
        StartStopView {
            toewijzing_nummer: self.toewijzing_nummer,
            product: self.product.as_ref(),
            toewijzing_ingangsdatum: self.toewijzing_ingangsdatum,
            begindatum: self.begindatum,
            einde: None,
            status_aanlevering: self.status_aanlevering,
        }
    }
}

impl StartStopProduct for StopProduct {
    fn view(&self) -> StartStopView<'_> {
        StartStopView {
            toewijzing_nummer: self.toewijzing_nummer,
            product: self.product.as_ref(),
            toewijzing_ingangsdatum: self.toewijzing_ingangsdatum,
            begindatum: self.begindatum,
            einde: Some((self.reden_beeindiging, self.einddatum)),
            status_aanlevering: self.status_aanlevering,
        }
    }
}

/// A heenbericht from an aanbieder with one client: WMO305 or WMO307.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartStopBericht<P> {
    pub header: AanbiederHeader,
    pub client: ClientMet<P>,
}

/// The matching retour: WMO306 or WMO308.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartStopRetour<P> {
    pub header: RetourHeader<AgbCode, Gemeentecode>,
    pub client: Option<Retour<ClientMet<Retour<P>>>>,
}

pub type Wmo305 = StartStopBericht<StartProduct>;
pub type Wmo306 = StartStopRetour<StartProduct>;
pub type Wmo307 = StartStopBericht<StopProduct>;
pub type Wmo308 = StartStopRetour<StopProduct>;

/// The message numbers of a product class: (heenbericht, retour).
pub trait Numbers {
    const HEEN: (u16, u16);
    const RETOUR: (u16, u16);
}
impl Numbers for StartProduct {
    const HEEN: (u16, u16) = (305, 418);
    const RETOUR: (u16, u16) = (306, 419);
}
impl Numbers for StopProduct {
    const HEEN: (u16, u16) = (307, 420);
    const RETOUR: (u16, u16) = (308, 421);
}

impl<P: ProductList + Numbers> StartStopBericht<P> {
    pub fn from_doc(root: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(StartStopBericht {
            header: Header::from_el(root.req("Header")?)?,
            client: ClientMet::from_el(root.req("Client")?)?,
        })
    }
    pub fn to_xml(&self) -> String {
        let mut w = XmlOut::new(P::HEEN.0);
        w.open("Header");
        self.header.write_fields(&mut w, P::HEEN.1);
        w.close("Header");
        self.client.write(&mut w);
        w.finish()
    }
}

impl<P: ProductList + Numbers> StartStopRetour<P> {
    pub fn from_doc(root: El<'_, '_>) -> Result<Self, ConvertError> {
        Ok(StartStopRetour {
            header: RetourHeader::from_el(root.req("Header")?)?,
            client: root.opt("Client").map(Retour::from_el).transpose()?,
        })
    }
    pub fn to_xml(&self) -> String {
        let mut w = XmlOut::new(P::RETOUR.0);
        self.header.write(&mut w, P::RETOUR.1);
        if let Some(c) = &self.client {
            c.write(&mut w);
        }
        w.finish()
    }
}
