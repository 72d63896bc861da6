//! Building the answers the standard prescribes: 306/308 on a start/stop, 316/318 on a verzoek
//! om toewijzing / wijziging and 325 on a declaration (reference §7). Header fields are copied
//! from the heenbericht.

pub mod parts;

use chrono::NaiveDate;

use crate::domain::{AgbCode, DomainError, Gemeentecode, RetourCode, TotaalBedragMetDc, Versie};
use crate::message::common::{
    AanbiederHeader, BerichtIdentificatie, Header, Retour, RetourHeader, XsdVersie,
};
use crate::message::declaratie::{
    DeclaratieAntwoord, DeclaratieClient, Header325, Prestatie, Wmo323, Wmo325,
};
use crate::message::startstop::{
    ClientMet, Numbers, ProductList, StartStopBericht, StartStopRetour,
};
use crate::message::verzoek::{Verzoek, VotClient, VowClient, Wmo315, Wmo316, Wmo317, Wmo318};
use crate::rules::catalogue::XSLT_VERSIE;
use crate::rules::decision::StartStopDecision;
use crate::rules::verzoek::WijzigingDecision;
use crate::rules::Finding;

/// The retour's own identification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetourMeta {
    /// 1–12 characters, unique per message kind for the gemeente.
    pub identificatie: String,
    pub dagtekening: NaiveDate,
}

/// How a 305/307 is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartStopAnswer {
    /// Everything approved: header only, no codes.
    Approved,
    /// Level 2 (XSLT) failure: header only with 0001 and XsltVersie.
    Level2,
    /// A header-level rejection (9056, 8848, S300): header only with these codes.
    Header(Vec<RetourCode>),
    /// Level 3/4 on the client's classes: header 0200, the client mirrored with a code on every
    /// class (0200 where fine). `products[i]` belongs to the i-th product of the heenbericht.
    Classes {
        client: Vec<RetourCode>,
        products: Vec<Vec<RetourCode>>,
    },
}

fn or_0200(codes: &[RetourCode]) -> Vec<RetourCode> {
    if codes.is_empty() {
        vec![RetourCode::R0200]
    } else {
        codes.to_vec()
    }
}

/// 306 on a 305, 308 on a 307.
pub fn start_stop<P: ProductList + Numbers + Clone>(
    heen: &StartStopBericht<P>,
    meta: &RetourMeta,
    answer: &StartStopAnswer,
) -> StartStopRetour<P> {
    let (codes, xslt, client) = match answer {
        StartStopAnswer::Approved => (Vec::new(), None, None),
        StartStopAnswer::Level2 => (vec![RetourCode::R0001], Some(XSLT_VERSIE), None),
        StartStopAnswer::Header(c) => (c.clone(), None, None),
        StartStopAnswer::Classes { client, products } => {
            let c = &heen.client;
            let mirrored = ClientMet {
                bsn: c.bsn,
                geboortedatum: c.geboortedatum,
                geslacht: c.geslacht,
                naam: c.naam.clone(),
                producten: c
                    .producten
                    .iter()
                    .enumerate()
                    .map(|(i, p)| Retour {
                        item: p.clone(),
                        retour_codes: or_0200(products.get(i).map(|v| v.as_slice()).unwrap_or(&[])),
                    })
                    .collect(),
            };
            (
                vec![RetourCode::R0200],
                None,
                Some(Retour {
                    item: mirrored,
                    retour_codes: or_0200(client),
                }),
            )
        }
    };
    StartStopRetour {
        header: RetourHeader {
            heen: heen.header.clone(),
            identificatie_retour: meta.identificatie.clone(),
            dagtekening_retour: meta.dagtekening,
            xslt_versie: xslt,
            xsd_versie_retour: XsdVersie::of_schema(P::RETOUR.0),
            retour_codes: codes,
        },
        client,
    }
}

/// How a 323 is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeclaratieAnswer {
    /// Level 2 (XSLT) failure: header only with 0001; the declaration counts as not sent.
    Level2,
    /// Header-level rejection (9056, 8848): header only with these codes.
    Header(Vec<RetourCode>),
    /// Rejection on the Declaratie class (9333, 8214): header 0200, DeclaratieAntwoord with these
    /// codes, TotaalToegekendBedrag 0, no Clienten.
    Declaratie(Vec<RetourCode>),
    /// Per Prestatie: `codes[c][p]` for the p-th Prestatie of the c-th client; empty = approved.
    /// `client_codes[c]`, when not empty, rejects the whole client (its Prestaties get 0233).
    PerPrestatie {
        client_codes: Vec<Vec<RetourCode>>,
        codes: Vec<Vec<Vec<RetourCode>>>,
    },
}

/// The 325 on a 323. `gemeente` is the answering municipality (the 323's Ontvanger).
pub fn declaratie(
    heen: &Wmo323,
    meta: &RetourMeta,
    answer: &DeclaratieAnswer,
) -> Result<Wmo325, DomainError> {
    let header = |codes: Vec<RetourCode>, xslt: Option<Versie>| Header325 {
        header: Header::<Gemeentecode, AgbCode> {
            afzender: heen.header.ontvanger,
            ontvanger: heen.header.afzender,
            bericht_identificatie: BerichtIdentificatie {
                identificatie: meta.identificatie.clone(),
                dagtekening: meta.dagtekening,
            },
            xsd_versie: XsdVersie::of_schema(325),
        },
        declaratie_identificatie: heen.header.bericht_identificatie.clone(),
        xslt_versie: xslt,
        xsd_versie_declaratie: heen.header.xsd_versie,
        retour_codes: codes,
    };
    let d = &heen.declaratie;
    Ok(match answer {
        DeclaratieAnswer::Level2 => Wmo325 {
            header: header(vec![RetourCode::R0001], Some(XSLT_VERSIE)),
            declaratie_antwoord: None,
        },
        DeclaratieAnswer::Header(c) => Wmo325 {
            header: header(c.clone(), None),
            declaratie_antwoord: None,
        },
        DeclaratieAnswer::Declaratie(c) => Wmo325 {
            header: header(vec![RetourCode::R0200], None),
            declaratie_antwoord: Some(DeclaratieAntwoord {
                declaratie_nummer: d.declaratie_nummer.clone(),
                totaal_ingediend_bedrag: d.totaal_ingediend_bedrag,
                totaal_toegekend_bedrag: TotaalBedragMetDc::from_signed(0)?,
                clienten: Vec::new(),
                retour_codes: or_0200(c),
            }),
        },
        DeclaratieAnswer::PerPrestatie {
            client_codes,
            codes,
        } => {
            let mut toegekend: i64 = 0;
            let mut clienten = Vec::new();
            for (ci, client) in d.clienten.iter().enumerate() {
                let own = client_codes.get(ci).cloned().unwrap_or_default();
                let mut rejected: Vec<Retour<Prestatie>> = Vec::new();
                for (pi, p) in client.prestaties.iter().enumerate() {
                    let pc = codes
                        .get(ci)
                        .and_then(|c| c.get(pi))
                        .cloned()
                        .unwrap_or_default();
                    if !own.is_empty() {
                        rejected.push(Retour {
                            item: p.clone(),
                            retour_codes: vec![RetourCode::R0233],
                        });
                    } else if pc.is_empty() {
                        toegekend = toegekend.saturating_add(p.ingediend_bedrag.signed());
                    } else {
                        rejected.push(Retour {
                            item: p.clone(),
                            retour_codes: pc,
                        });
                    }
                }
                if !rejected.is_empty() {
                    clienten.push(Retour {
                        item: DeclaratieClient {
                            bsn: client.bsn,
                            prestaties: rejected,
                        },
                        retour_codes: or_0200(&own),
                    });
                }
            }
            let da_code = if clienten.is_empty() {
                RetourCode::R8001
            } else {
                RetourCode::R0200
            };
            Wmo325 {
                header: header(vec![RetourCode::R0200], None),
                declaratie_antwoord: Some(DeclaratieAntwoord {
                    declaratie_nummer: d.declaratie_nummer.clone(),
                    totaal_ingediend_bedrag: d.totaal_ingediend_bedrag,
                    totaal_toegekend_bedrag: TotaalBedragMetDc::from_signed(toegekend)?,
                    clienten,
                    retour_codes: vec![da_code],
                }),
            }
        }
    })
}

/// Retour codes of findings: sorted, each once.
fn codes_of(findings: &[Finding]) -> Vec<RetourCode> {
    let mut c: Vec<RetourCode> = findings.iter().map(|f| f.code).collect();
    c.sort();
    c.dedup();
    c
}

fn codes_per_class(classes: &[Vec<Finding>]) -> Vec<Vec<RetourCode>> {
    classes.iter().map(|f| codes_of(f)).collect()
}

impl StartStopAnswer {
    /// The answer to a level-3/4 decision on a 305, 307 or 315 (level 2 is decided before).
    pub fn from_decision(d: &StartStopDecision) -> StartStopAnswer {
        if !d.header.is_empty() {
            StartStopAnswer::Header(codes_of(&d.header))
        } else if d.approved() {
            StartStopAnswer::Approved
        } else {
            StartStopAnswer::Classes {
                client: codes_of(&d.client),
                products: codes_per_class(&d.products),
            }
        }
    }
}

/// The retour header on a heenbericht of an aanbieder: its header copied, plus our own fields.
fn retour_header(
    heen: &AanbiederHeader,
    meta: &RetourMeta,
    number: u16,
    codes: Vec<RetourCode>,
    xslt_versie: Option<Versie>,
) -> RetourHeader<AgbCode, Gemeentecode> {
    RetourHeader {
        heen: heen.clone(),
        identificatie_retour: meta.identificatie.clone(),
        dagtekening_retour: meta.dagtekening,
        xslt_versie,
        xsd_versie_retour: XsdVersie::of_schema(number),
        retour_codes: codes,
    }
}

fn mirrored<T: Clone>(item: &T, codes: Option<&Vec<RetourCode>>) -> Retour<T> {
    Retour {
        item: item.clone(),
        retour_codes: or_0200(codes.map(|v| v.as_slice()).unwrap_or(&[])),
    }
}

fn mirrored_all<T: Clone>(items: &[T], codes: &[Vec<RetourCode>]) -> Vec<Retour<T>> {
    items
        .iter()
        .enumerate()
        .map(|(i, p)| mirrored(p, codes.get(i)))
        .collect()
}

/// 316 on a 315, built like the 306: approved → header only; level 2 → header only with 0001 and
/// XsltVersie; header codes → header only with them; classes → header 0200 and the client
/// mirrored with a code on every class (0200 where no code is given; a caller that did not
/// assess a class passes 0233 for it).
pub fn verzoek_om_toewijzing(heen: &Wmo315, meta: &RetourMeta, answer: &StartStopAnswer) -> Wmo316 {
    let (codes, xslt, client) = match answer {
        StartStopAnswer::Approved => (Vec::new(), None, None),
        StartStopAnswer::Level2 => (vec![RetourCode::R0001], Some(XSLT_VERSIE), None),
        StartStopAnswer::Header(c) => (c.clone(), None, None),
        StartStopAnswer::Classes { client, products } => {
            let c = &heen.client;
            let item = VotClient {
                bsn: c.bsn,
                geboortedatum: c.geboortedatum,
                geslacht: c.geslacht,
                naam: c.naam.clone(),
                commentaar: c.commentaar.clone(),
                producten: mirrored_all(&c.producten, products),
            };
            let client = Retour {
                item,
                retour_codes: or_0200(client),
            };
            (vec![RetourCode::R0200], None, Some(client))
        }
    };
    Wmo316 {
        header: retour_header(&heen.header, meta, 316, codes, xslt),
        client,
    }
}

/// How a 317 is answered (318).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WijzigingAnswer {
    /// Everything approved: header only, no codes.
    Approved,
    /// Level 2 (XSLT) failure: header only with 0001 and XsltVersie.
    Level2,
    /// A header-level rejection (9056, 8848, S300): header only with these codes.
    Header(Vec<RetourCode>),
    /// Level 3/4: header 0200, the client mirrored with a code on every class (0200 where
    /// empty). The lists follow the 317's OngewijzigdeProducten, TeWijzigenProducten and
    /// NieuweProducten.
    Classes {
        client: Vec<RetourCode>,
        verzoek: Vec<RetourCode>,
        ongewijzigd: Vec<Vec<RetourCode>>,
        te_wijzigen: Vec<Vec<RetourCode>>,
        nieuw: Vec<Vec<RetourCode>>,
    },
}

impl WijzigingAnswer {
    /// The answer to a level-3/4 decision on a 317 (level 2 is decided before).
    pub fn from_decision(d: &WijzigingDecision) -> WijzigingAnswer {
        if !d.header.is_empty() {
            WijzigingAnswer::Header(codes_of(&d.header))
        } else if d.approved() {
            WijzigingAnswer::Approved
        } else {
            WijzigingAnswer::Classes {
                client: codes_of(&d.client),
                verzoek: codes_of(&d.verzoek),
                ongewijzigd: codes_per_class(&d.ongewijzigd),
                te_wijzigen: codes_per_class(&d.te_wijzigen),
                nieuw: codes_per_class(&d.nieuw),
            }
        }
    }
}

/// 318 on a 317, built like the 306 (see [`verzoek_om_toewijzing`]).
pub fn verzoek_om_wijziging(heen: &Wmo317, meta: &RetourMeta, answer: &WijzigingAnswer) -> Wmo318 {
    let (codes, xslt, client) = match answer {
        WijzigingAnswer::Approved => (Vec::new(), None, None),
        WijzigingAnswer::Level2 => (vec![RetourCode::R0001], Some(XSLT_VERSIE), None),
        WijzigingAnswer::Header(c) => (c.clone(), None, None),
        WijzigingAnswer::Classes {
            client,
            verzoek,
            ongewijzigd,
            te_wijzigen,
            nieuw,
        } => {
            let v = &heen.client.verzoek;
            let item = Verzoek {
                referentie_aanbieder: v.referentie_aanbieder.clone(),
                reden_verzoek: v.reden_verzoek,
                ongewijzigde_producten: mirrored_all(&v.ongewijzigde_producten, ongewijzigd),
                te_wijzigen_producten: mirrored_all(&v.te_wijzigen_producten, te_wijzigen),
                nieuwe_producten: mirrored_all(&v.nieuwe_producten, nieuw),
            };
            let client = Retour {
                item: VowClient {
                    bsn: heen.client.bsn,
                    verzoek: Retour {
                        item,
                        retour_codes: or_0200(verzoek),
                    },
                },
                retour_codes: or_0200(client),
            };
            (vec![RetourCode::R0200], None, Some(client))
        }
    };
    Wmo318 {
        header: retour_header(&heen.header, meta, 318, codes, xslt),
        client,
    }
}
