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
    let per_client = 10;
    let mut body = String::with_capacity(n * 1100 + 2000);
    let clients = n.div_ceil(per_client);
    let mut made = 0;
    for c in 0..clients {
        let _ = write!(
            body,
            "      <wmo323:Client>\n        <wmo323:Bsn>{}</wmo323:Bsn>\n        <wmo323:Prestaties>\n",
            bsn(c as u32)
        );
        for _ in 0..per_client.min(n - made) {
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
              <iwmo:Begindatum>2025-01-01</iwmo:Begindatum>
              <iwmo:Einddatum>2025-01-31</iwmo:Einddatum>
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
                100_000 + made
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
      <iwmo:Dagtekening>2025-02-05</iwmo:Dagtekening>
    </wmo323:BerichtIdentificatie>
    <wmo323:XsdVersie>
      <iwmo:BasisschemaXsdVersie>1.0.0</iwmo:BasisschemaXsdVersie>
      <iwmo:BerichtXsdVersie>1.0.0</iwmo:BerichtXsdVersie>
    </wmo323:XsdVersie>
  </wmo323:Header>
  <wmo323:Declaratie>
    <wmo323:DeclaratieNummer>{declaratie_nummer}</wmo323:DeclaratieNummer>
    <wmo323:DeclaratiePeriode>
      <iwmo:Begindatum>2025-01-01</iwmo:Begindatum>
      <iwmo:Einddatum>2025-01-31</iwmo:Einddatum>
    </wmo323:DeclaratiePeriode>
    <wmo323:DeclaratieDagtekening>2025-02-05</wmo323:DeclaratieDagtekening>
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Bsn;

    #[test]
    fn bsns_pass_the_elfproef() {
        for i in 0..1000 {
            assert!(Bsn::parse(&bsn(i)).unwrap().passes_elfproef());
        }
    }
}
