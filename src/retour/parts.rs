//! A 325 within the size the hubs accept.
//!
//! iWmo 3.2 OP179: a file sent is at most 25 MB, and where size causes trouble the sender must
//! make it smaller; the GGk refuses a larger message (IB007, "Verdeel de payload over meerdere
//! berichten"), VECOZO likewise (CC03). IV087 asks for one 325 per 323 (1-op-1). So, in order:
//!
//! 1. the 325 as always (indented), when it fits;
//! 2. the same 325 compact (no indentation, no line ends between elements; one 325, still 1-op-1);
//! 3. only when that is still too large: several 325s, each with its own Identificatie and the
//!    same DeclaratieIdentificatie and DeclaratieNummer, the rejected Prestaties partitioned
//!    (each exactly once, in message order). The totals keep TR342 in every part and add up to
//!    the declaration's: part 1 carries TotaalToegekendBedrag (everything approved) and as
//!    TotaalIngediendBedrag that plus its own rejected lines; every further part has
//!    TotaalToegekendBedrag 0 and as TotaalIngediendBedrag the sum of its rejected lines.

use crate::domain::TotaalBedragMetDc;
use crate::message::common::Retour;
use crate::message::declaratie::{DeclaratieAntwoord, DeclaratieClient, Prestatie, Wmo325};

/// Letters that replace the second character of the first part's Identificatie (`IW…`) for
/// the further parts: never the `W` of a first part, so no part can take another answer's id.
const PART_LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVXYZ";

/// Room left in every part for totals with more digits than the skeleton's.
const MARGIN: usize = 64;

/// One 325 as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub identificatie: String,
    pub xml: String,
}

/// The Identificatie of part `index` (0 = the first, the answer's own Identificatie).
pub fn part_identificatie(base: &str, index: usize) -> Option<String> {
    if index == 0 {
        return Some(base.to_string());
    }
    let letter = *PART_LETTERS.get(index - 1)?;
    if base.len() < 2 || !base.is_char_boundary(1) || !base.is_char_boundary(2) {
        return None;
    }
    Some(format!("{}{}{}", &base[..1], letter as char, &base[2..]))
}

/// The Identificaties further parts of an answer would have (for finding them again).
pub fn further_identificaties(base: &str) -> Vec<String> {
    (1..=PART_LETTERS.len())
        .filter_map(|i| part_identificatie(base, i))
        .collect()
}

/// The 325 `full` (its own Identificatie `base`) as one or more files of at most `max` bytes.
pub fn within(full: &Wmo325, max: usize) -> Result<Vec<Part>, String> {
    let base = full
        .header
        .header
        .bericht_identificatie
        .identificatie
        .clone();
    let xml = full.to_xml();
    if xml.len() <= max {
        return Ok(vec![Part {
            identificatie: base,
            xml,
        }]);
    }
    let xml = full.to_xml_compact();
    if xml.len() <= max {
        return Ok(vec![Part {
            identificatie: base,
            xml,
        }]);
    }
    split(full, &base, max)
}

/// The 325 without its clients (header, DeclaratieAntwoord and its codes).
fn skeleton(full: &Wmo325, da: &DeclaratieAntwoord) -> Wmo325 {
    Wmo325 {
        header: full.header.clone(),
        declaratie_antwoord: Some(DeclaratieAntwoord {
            declaratie_nummer: da.declaratie_nummer.clone(),
            totaal_ingediend_bedrag: da.totaal_ingediend_bedrag,
            totaal_toegekend_bedrag: da.totaal_toegekend_bedrag,
            clienten: Vec::new(),
            retour_codes: da.retour_codes.clone(),
        }),
    }
}

type ClientRetour = Retour<DeclaratieClient<Retour<Prestatie>>>;

/// One client carrying only the given Prestaties (its own codes kept).
fn client_with(c: &ClientRetour, prestaties: Vec<Retour<Prestatie>>) -> ClientRetour {
    Retour {
        item: DeclaratieClient {
            bsn: c.item.bsn,
            prestaties,
        },
        retour_codes: c.retour_codes.clone(),
    }
}

/// Every returned Prestatie as (client index, Prestatie index), packed in order into groups
/// whose parts stay under `max`. The cost of a line is what it adds to an empty 325 on its own
/// (its client included), an upper bound of what it adds to a part.
fn groups(
    full: &Wmo325,
    da: &DeclaratieAntwoord,
    max: usize,
) -> Result<Vec<Vec<(usize, usize)>>, String> {
    let mut sk = skeleton(full, da);
    let empty = sk.to_xml_compact().len();
    let budget = max.saturating_sub(empty + MARGIN);
    let mut out: Vec<Vec<(usize, usize)>> = vec![Vec::new()];
    let mut used = 0usize;
    for (ci, c) in da.clienten.iter().enumerate() {
        for (pi, p) in c.item.prestaties.iter().enumerate() {
            if let Some(a) = sk.declaratie_antwoord.as_mut() {
                a.clienten = vec![client_with(c, vec![p.clone()])];
            }
            let cost = sk.to_xml_compact().len().saturating_sub(empty);
            if cost > budget {
                return Err(format!(
                    "een afgekeurde Prestatie past niet in een 325 van ten hoogste {max} bytes"
                ));
            }
            let full_part = out.last().is_some_and(|g| !g.is_empty()) && used + cost > budget;
            if full_part {
                out.push(Vec::new());
                used = 0;
            }
            used += cost;
            if let Some(g) = out.last_mut() {
                g.push((ci, pi));
            }
        }
    }
    Ok(out)
}

/// The clients of one part: consecutive lines of one client under one Client.
fn clients_of(da: &DeclaratieAntwoord, group: &[(usize, usize)]) -> Vec<ClientRetour> {
    let mut out: Vec<ClientRetour> = Vec::new();
    let mut last: Option<usize> = None;
    for &(ci, pi) in group {
        let (Some(c), Some(p)) = (
            da.clienten.get(ci),
            da.clienten.get(ci).and_then(|c| c.item.prestaties.get(pi)),
        ) else {
            continue;
        };
        match out.last_mut() {
            Some(cur) if last == Some(ci) => cur.item.prestaties.push(p.clone()),
            _ => out.push(client_with(c, vec![p.clone()])),
        }
        last = Some(ci);
    }
    out
}

fn split(full: &Wmo325, base: &str, max: usize) -> Result<Vec<Part>, String> {
    let da = full
        .declaratie_antwoord
        .as_ref()
        .filter(|d| !d.clienten.is_empty())
        .ok_or("een 325 zonder afgekeurde Prestaties is niet te splitsen")?;
    let groups = groups(full, da, max)?;
    if groups.len() > PART_LETTERS.len() + 1 {
        return Err(format!(
            "de 325 zou {} delen nodig hebben, ten hoogste {} kan",
            groups.len(),
            PART_LETTERS.len() + 1
        ));
    }
    let toegekend = da.totaal_toegekend_bedrag.signed();
    let mut parts = Vec::with_capacity(groups.len());
    for (k, group) in groups.iter().enumerate() {
        let clienten = clients_of(da, group);
        let rejected: i64 = clienten
            .iter()
            .flat_map(|c| &c.item.prestaties)
            .fold(0i64, |s, p| {
                s.saturating_add(p.item.ingediend_bedrag.signed())
            });
        let (ingediend, toegekend_k) = if k == 0 {
            (toegekend.saturating_add(rejected), toegekend)
        } else {
            (rejected, 0)
        };
        let identificatie = part_identificatie(base, k)
            .ok_or("Identificatie van een deel van de 325 niet af te leiden")?;
        let mut header = full.header.clone();
        header.header.bericht_identificatie.identificatie = identificatie.clone();
        let part = Wmo325 {
            header,
            declaratie_antwoord: Some(DeclaratieAntwoord {
                declaratie_nummer: da.declaratie_nummer.clone(),
                totaal_ingediend_bedrag: bedrag(ingediend)?,
                totaal_toegekend_bedrag: bedrag(toegekend_k)?,
                clienten,
                retour_codes: da.retour_codes.clone(),
            }),
        };
        let xml = part.to_xml_compact();
        if xml.len() > max {
            return Err(format!(
                "deel {} van de 325 is groter dan {max} bytes",
                k + 1
            ));
        }
        parts.push(Part { identificatie, xml });
    }
    Ok(parts)
}

fn bedrag(signed: i64) -> Result<TotaalBedragMetDc, String> {
    TotaalBedragMetDc::from_signed(signed).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn further_parts_get_their_own_identificatie_within_twelve_characters() {
        assert_eq!(
            part_identificatie("IW0000000123", 0).unwrap(),
            "IW0000000123"
        );
        assert_eq!(
            part_identificatie("IW0000000123", 1).unwrap(),
            "IA0000000123"
        );
        assert_eq!(
            part_identificatie("IW0000000123", 25).unwrap(),
            "IZ0000000123"
        );
        assert!(part_identificatie("IW0000000123", 26).is_none());
        let all = further_identificaties("IW0000000123");
        assert_eq!(all.len(), 25);
        assert!(all.iter().all(|i| i.len() == 12 && !i.starts_with("IW")));
    }
}
