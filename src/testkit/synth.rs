//! Synthetic but valid messages for benchmarks and load tests (not for production use).

use std::fmt::Write;

/// The n-th valid test BSN (passes the 11-proef), deterministic.
pub fn bsn(n: u32) -> String {
    let mut k = n;
    loop {
        let base = format!("{:08}", 10_000_000 + (k % 89_999_999));
        let d: Vec<i64> = base.bytes().map(|b| i64::from(b - b'0')).collect();
        let s: i64 = (0..8).map(|i| (9 - i as i64) * d[i]).sum();
        // s - d9 ≡ 0 (mod 11)  →  d9 = s mod 11, must be a digit.
        let d9 = s.rem_euclid(11);
        if d9 <= 9 {
            return format!("{base}{d9}");
        }
        k = k.wrapping_add(7_919);
    }
}

/// A WMO323 with `n` Prestaties (10 per client), all valid at levels 1 and 2: January 2025,
/// begeleiding 02A01, 4 hours × €68.50 each, every Prestatie on its own toewijzing.
pub fn wmo323(n: usize, identificatie: &str, declaratie_nummer: &str) -> String {
    wmo323_in(n, identificatie, declaratie_nummer, 2025, 1, 100_000)
}

/// Client index of toewijzing `nr` in the synthetic data: toewijzingen come in groups of 10 per
/// client, numbered from 100 000 (so toewijzing 100 000 + k belongs to client k / 10).
pub fn client_of(nr: u32) -> u32 {
    nr.saturating_sub(100_000) / 10
}

/// Like [`wmo323`], for month `year`-`month` and Prestaties on toewijzingen from `first_toewijzing`
/// on (client of each: [`client_of`]); Dagtekening is the 5th of the next month.
pub fn wmo323_in(
    n: usize,
    identificatie: &str,
    declaratie_nummer: &str,
    year: i32,
    month: u32,
    first_toewijzing: u32,
) -> String {
    wmo323_spread(
        n,
        10,
        identificatie,
        declaratie_nummer,
        (year, month),
        first_toewijzing,
    )
}

/// Like [`wmo323_in`], with `per_client` Prestaties (1–10) per client: on the first `per_client`
/// toewijzingen of each client from the client of `first_toewijzing` on (so `n / per_client`
/// clients).
pub fn wmo323_spread(
    n: usize,
    per_client: usize,
    identificatie: &str,
    declaratie_nummer: &str,
    (year, month): (i32, u32),
    first_toewijzing: u32,
) -> String {
    let first = chrono::NaiveDate::from_ymd_opt(year, month, 1).unwrap_or_default();
    let last = crate::domain::last_day_of_month(first);
    let dag = last + chrono::Days::new(5);
    let (b, e, dt) = (
        first.format("%Y-%m-%d"),
        last.format("%Y-%m-%d"),
        dag.format("%Y-%m-%d"),
    );
    let per_client = per_client.clamp(1, 10);
    let mut body = String::with_capacity(n * 1100 + 2000);
    let clients = n.div_ceil(per_client);
    let mut made = 0;
    for c in 0..clients {
        let nr0 = first_toewijzing + 10 * c as u32;
        let _ = write!(
            body,
            "      <wmo323:Client>\n        <wmo323:Bsn>{}</wmo323:Bsn>\n        <wmo323:Prestaties>\n",
            bsn(client_of(nr0))
        );
        for j in 0..per_client.min(n - made) {
            let _ = write!(
                body,
                "          <wmo323:Prestatie>
            <wmo323:ProductReferentie>
              <iwmo:ReferentieNummer>{declaratie_nummer}-{made:07}</iwmo:ReferentieNummer>
            </wmo323:ProductReferentie>
            <wmo323:ToewijzingNummer>{}</wmo323:ToewijzingNummer>
            <wmo323:ProductCategorie>02</wmo323:ProductCategorie>
            <wmo323:ProductCode>02A01</wmo323:ProductCode>
            <wmo323:ProductPeriode>
              <iwmo:Begindatum>{b}</iwmo:Begindatum>
              <iwmo:Einddatum>{e}</iwmo:Einddatum>
            </wmo323:ProductPeriode>
            <wmo323:GeleverdVolume>4</wmo323:GeleverdVolume>
            <wmo323:Eenheid>04</wmo323:Eenheid>
            <wmo323:ProductTarief>6850</wmo323:ProductTarief>
            <wmo323:IngediendBedrag>
              <iwmo:Bedrag>27400</iwmo:Bedrag>
              <iwmo:DebetCredit>D</iwmo:DebetCredit>
            </wmo323:IngediendBedrag>
          </wmo323:Prestatie>
",
                nr0 as usize + j
            );
            made += 1;
        }
        body.push_str("        </wmo323:Prestaties>\n      </wmo323:Client>\n");
    }
    let total = 27_400u64 * n as u64;
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<wmo323:Bericht xmlns:iwmo="http://www.istandaarden.nl/iwmo/3_2/basisschema/schema" xmlns:wmo323="http://www.istandaarden.nl/iwmo/3_2/wmo323/schema">
  <wmo323:Header>
    <wmo323:BerichtCode>484</wmo323:BerichtCode>
    <wmo323:BerichtVersie>3</wmo323:BerichtVersie>
    <wmo323:BerichtSubversie>2</wmo323:BerichtSubversie>
    <wmo323:Afzender>87654321</wmo323:Afzender>
    <wmo323:Ontvanger>0344</wmo323:Ontvanger>
    <wmo323:BerichtIdentificatie>
      <iwmo:Identificatie>{identificatie}</iwmo:Identificatie>
      <iwmo:Dagtekening>{dt}</iwmo:Dagtekening>
    </wmo323:BerichtIdentificatie>
    <wmo323:XsdVersie>
      <iwmo:BasisschemaXsdVersie>1.0.0</iwmo:BasisschemaXsdVersie>
      <iwmo:BerichtXsdVersie>1.0.0</iwmo:BerichtXsdVersie>
    </wmo323:XsdVersie>
  </wmo323:Header>
  <wmo323:Declaratie>
    <wmo323:DeclaratieNummer>{declaratie_nummer}</wmo323:DeclaratieNummer>
    <wmo323:DeclaratiePeriode>
      <iwmo:Begindatum>{b}</iwmo:Begindatum>
      <iwmo:Einddatum>{e}</iwmo:Einddatum>
    </wmo323:DeclaratiePeriode>
    <wmo323:DeclaratieDagtekening>{dt}</wmo323:DeclaratieDagtekening>
    <wmo323:TotaalIngediendBedrag>
      <iwmo:TotaalBedrag>{total}</iwmo:TotaalBedrag>
      <iwmo:DebetCredit>D</iwmo:DebetCredit>
    </wmo323:TotaalIngediendBedrag>
    <wmo323:Clienten>
{body}    </wmo323:Clienten>
  </wmo323:Declaratie>
</wmo323:Bericht>
"#
    )
}

/// A WMO305 starting toewijzing `nr` (of client [`client_of`]) on `begindatum`.
pub fn wmo305(identificatie: &str, nr: u32, begindatum: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<wmo305:Bericht xmlns:iwmo="http://www.istandaarden.nl/iwmo/3_2/basisschema/schema" xmlns:wmo305="http://www.istandaarden.nl/iwmo/3_2/wmo305/schema">
  <wmo305:Header>
    <wmo305:BerichtCode>418</wmo305:BerichtCode>
    <wmo305:BerichtVersie>3</wmo305:BerichtVersie>
    <wmo305:BerichtSubversie>2</wmo305:BerichtSubversie>
    <wmo305:Afzender>87654321</wmo305:Afzender>
    <wmo305:Ontvanger>0344</wmo305:Ontvanger>
    <wmo305:BerichtIdentificatie>
      <iwmo:Identificatie>{identificatie}</iwmo:Identificatie>
      <iwmo:Dagtekening>2025-01-10</iwmo:Dagtekening>
    </wmo305:BerichtIdentificatie>
    <wmo305:XsdVersie>
      <iwmo:BasisschemaXsdVersie>1.0.0</iwmo:BasisschemaXsdVersie>
      <iwmo:BerichtXsdVersie>1.0.0</iwmo:BerichtXsdVersie>
    </wmo305:XsdVersie>
  </wmo305:Header>
  <wmo305:Client>
    <wmo305:Bsn>{}</wmo305:Bsn>
    <wmo305:Geboortedatum>
      <iwmo:Datum>1950-01-01</iwmo:Datum>
    </wmo305:Geboortedatum>
    <wmo305:Geslacht>2</wmo305:Geslacht>
    <wmo305:Naam>
      <iwmo:Geslachtsnaam>
        <iwmo:Achternaam>Test</iwmo:Achternaam>
      </iwmo:Geslachtsnaam>
    </wmo305:Naam>
    <wmo305:StartProducten>
      <wmo305:StartProduct>
        <wmo305:ToewijzingNummer>{nr}</wmo305:ToewijzingNummer>
        <wmo305:Product>
          <iwmo:Categorie>02</iwmo:Categorie>
          <iwmo:Code>02A01</iwmo:Code>
        </wmo305:Product>
        <wmo305:Begindatum>{begindatum}</wmo305:Begindatum>
        <wmo305:StatusAanlevering>1</wmo305:StatusAanlevering>
      </wmo305:StartProduct>
    </wmo305:StartProducten>
  </wmo305:Client>
</wmo305:Bericht>
"#,
        bsn(client_of(nr))
    )
}

/// A WMO301 allocating toewijzing `nr` (product 02A01, 4 hours a week) to aanbieder 87654321
/// for client [`client_of`]`(nr)`, from `ingangsdatum` to `einddatum`.
pub fn wmo301(identificatie: &str, nr: u32, ingangsdatum: &str, einddatum: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<wmo301:Bericht xmlns:iwmo="http://www.istandaarden.nl/iwmo/3_2/basisschema/schema" xmlns:wmo301="http://www.istandaarden.nl/iwmo/3_2/wmo301/schema">
  <wmo301:Header>
    <wmo301:BerichtCode>414</wmo301:BerichtCode>
    <wmo301:BerichtVersie>3</wmo301:BerichtVersie>
    <wmo301:BerichtSubversie>2</wmo301:BerichtSubversie>
    <wmo301:Afzender>0344</wmo301:Afzender>
    <wmo301:Ontvanger>87654321</wmo301:Ontvanger>
    <wmo301:BerichtIdentificatie>
      <iwmo:Identificatie>{identificatie}</iwmo:Identificatie>
      <iwmo:Dagtekening>2024-12-20</iwmo:Dagtekening>
    </wmo301:BerichtIdentificatie>
    <wmo301:XsdVersie>
      <iwmo:BasisschemaXsdVersie>1.0.0</iwmo:BasisschemaXsdVersie>
      <iwmo:BerichtXsdVersie>1.0.0</iwmo:BerichtXsdVersie>
    </wmo301:XsdVersie>
  </wmo301:Header>
  <wmo301:Client>
    <wmo301:Bsn>{}</wmo301:Bsn>
    <wmo301:Geboortedatum>
      <iwmo:Datum>1950-01-01</iwmo:Datum>
    </wmo301:Geboortedatum>
    <wmo301:Geslacht>2</wmo301:Geslacht>
    <wmo301:Naam>
      <iwmo:Geslachtsnaam>
        <iwmo:Achternaam>Test</iwmo:Achternaam>
      </iwmo:Geslachtsnaam>
      <iwmo:Voorletters>T</iwmo:Voorletters>
      <iwmo:NaamGebruik>1</iwmo:NaamGebruik>
    </wmo301:Naam>
    <wmo301:Contactgegevens>
      <wmo301:Contact>
        <wmo301:Soort>01</wmo301:Soort>
        <wmo301:Adres>
          <iwmo:Huis>
            <iwmo:Huisnummer>1</iwmo:Huisnummer>
          </iwmo:Huis>
          <iwmo:Postcode>1234AB</iwmo:Postcode>
          <iwmo:Straatnaam>Teststraat</iwmo:Straatnaam>
          <iwmo:Plaatsnaam>Teststad</iwmo:Plaatsnaam>
          <iwmo:LandCode>NL</iwmo:LandCode>
        </wmo301:Adres>
      </wmo301:Contact>
    </wmo301:Contactgegevens>
    <wmo301:ToegewezenProducten>
      <wmo301:ToegewezenProduct>
        <wmo301:ToewijzingNummer>{nr}</wmo301:ToewijzingNummer>
        <wmo301:Product>
          <iwmo:Categorie>02</iwmo:Categorie>
          <iwmo:Code>02A01</iwmo:Code>
        </wmo301:Product>
        <wmo301:Toewijzingsdatum>2024-12-20</wmo301:Toewijzingsdatum>
        <wmo301:Toewijzingstijd>10:15:00</wmo301:Toewijzingstijd>
        <wmo301:Ingangsdatum>{ingangsdatum}</wmo301:Ingangsdatum>
        <wmo301:Einddatum>{einddatum}</wmo301:Einddatum>
        <wmo301:Omvang>
          <iwmo:Volume>4</iwmo:Volume>
          <iwmo:Eenheid>04</iwmo:Eenheid>
          <iwmo:Frequentie>2</iwmo:Frequentie>
        </wmo301:Omvang>
      </wmo301:ToegewezenProduct>
    </wmo301:ToegewezenProducten>
  </wmo301:Client>
</wmo301:Bericht>
"#,
        bsn(client_of(nr))
    )
}

/// A WMO307 stopping toewijzing `nr` (allocated from `ingangsdatum`, started on `begindatum`)
/// on `einddatum` (RedenBeeindiging 20).
pub fn wmo307(
    identificatie: &str,
    nr: u32,
    ingangsdatum: &str,
    begindatum: &str,
    einddatum: &str,
) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<wmo307:Bericht xmlns:iwmo="http://www.istandaarden.nl/iwmo/3_2/basisschema/schema" xmlns:wmo307="http://www.istandaarden.nl/iwmo/3_2/wmo307/schema">
  <wmo307:Header>
    <wmo307:BerichtCode>420</wmo307:BerichtCode>
    <wmo307:BerichtVersie>3</wmo307:BerichtVersie>
    <wmo307:BerichtSubversie>2</wmo307:BerichtSubversie>
    <wmo307:Afzender>87654321</wmo307:Afzender>
    <wmo307:Ontvanger>0344</wmo307:Ontvanger>
    <wmo307:BerichtIdentificatie>
      <iwmo:Identificatie>{identificatie}</iwmo:Identificatie>
      <iwmo:Dagtekening>{einddatum}</iwmo:Dagtekening>
    </wmo307:BerichtIdentificatie>
    <wmo307:XsdVersie>
      <iwmo:BasisschemaXsdVersie>1.0.0</iwmo:BasisschemaXsdVersie>
      <iwmo:BerichtXsdVersie>1.0.0</iwmo:BerichtXsdVersie>
    </wmo307:XsdVersie>
  </wmo307:Header>
  <wmo307:Client>
    <wmo307:Bsn>{}</wmo307:Bsn>
    <wmo307:Geboortedatum>
      <iwmo:Datum>1950-01-01</iwmo:Datum>
    </wmo307:Geboortedatum>
    <wmo307:Geslacht>2</wmo307:Geslacht>
    <wmo307:Naam>
      <iwmo:Geslachtsnaam>
        <iwmo:Achternaam>Test</iwmo:Achternaam>
      </iwmo:Geslachtsnaam>
      <iwmo:Voorletters>T</iwmo:Voorletters>
    </wmo307:Naam>
    <wmo307:StopProducten>
      <wmo307:StopProduct>
        <wmo307:ToewijzingNummer>{nr}</wmo307:ToewijzingNummer>
        <wmo307:Product>
          <iwmo:Categorie>02</iwmo:Categorie>
          <iwmo:Code>02A01</iwmo:Code>
        </wmo307:Product>
        <wmo307:ToewijzingIngangsdatum>{ingangsdatum}</wmo307:ToewijzingIngangsdatum>
        <wmo307:Begindatum>{begindatum}</wmo307:Begindatum>
        <wmo307:RedenBeeindiging>20</wmo307:RedenBeeindiging>
        <wmo307:Einddatum>{einddatum}</wmo307:Einddatum>
        <wmo307:StatusAanlevering>1</wmo307:StatusAanlevering>
      </wmo307:StopProduct>
    </wmo307:StopProducten>
  </wmo307:Client>
</wmo307:Bericht>
"#,
        bsn(client_of(nr))
    )
}

/// The k-th message of a load run: a WMO305 starting one of the 200,000 seeded toewijzingen,
/// consecutive ones for different clients as in real traffic (toewijzing 100 000 + 10 × (k mod
/// 20,000) + (k div 20,000) mod 10, so every toewijzing once in 200,000 messages), or (`kind`
/// "323") a WMO323 of 100 Prestaties on toewijzingen of its own (1,900 per year, then the next
/// year), with Identificatie `{prefix}{k}`.
pub fn load_message(kind: &str, prefix: &str, k: u32) -> (String, String) {
    let id = format!("{prefix}{k:09}");
    let body = if kind == "305" {
        wmo305(
            &id,
            100_000 + 10 * (k % 20_000) + (k / 20_000) % 10,
            "2025-01-06",
        )
    } else {
        let first = 100_000 + (k % 1900) * 100;
        wmo323_in(
            100,
            &id,
            &format!("D{k:010}"),
            2025 + (k / 1900) as i32,
            1,
            first,
        )
    };
    (id, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Bsn;

    #[test]
    fn synthetic_messages_are_valid() {
        for x in [
            wmo323_in(25, "A1", "D1", 2025, 3, 100_000),
            wmo323_spread(25, 3, "A2", "D2", (2025, 4), 100_020),
            wmo305("S1", 100_005, "2025-01-06"),
            wmo301("T1", 100_005, "2025-01-01", "2025-12-31"),
            wmo307("E1", 100_005, "2025-01-01", "2025-01-06", "2025-06-30"),
        ] {
            let p = crate::message::read(x.as_bytes(), Default::default()).unwrap();
            assert!(crate::rules::inmessage::check(&p.message).is_empty(), "{x}");
        }
    }

    #[test]
    fn a_spread_declaration_names_the_first_toewijzingen_of_each_client() {
        let x = wmo323_spread(5, 2, "A3", "D3", (2025, 5), 100_020);
        let nrs: Vec<&str> = x
            .split("<wmo323:ToewijzingNummer>")
            .skip(1)
            .filter_map(|s| s.split('<').next())
            .collect();
        assert_eq!(nrs, ["100020", "100021", "100030", "100031", "100040"]);
        assert_eq!(x.matches("<wmo323:Client>").count(), 3);
        assert_eq!(
            wmo323_in(12, "A", "D", 2025, 1, 100_000),
            wmo323_spread(12, 10, "A", "D", (2025, 1), 100_000)
        );
    }

    #[test]
    fn bsns_pass_the_elfproef() {
        for i in 0..1000 {
            assert!(Bsn::parse(&bsn(i)).unwrap().passes_elfproef());
        }
    }
}
