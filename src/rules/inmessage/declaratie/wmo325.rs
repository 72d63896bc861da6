//! WMO325 Declaratie-antwoord.

use super::{
    cd060, cs325_bedrag, cs325_totaal, lines, runs, saldo, signed_euro, signed_totaal,
    tr101_clienten, tr101_prestaties, tr137, Line, ANTWOORD,
};
use crate::domain::RetourCode;
use crate::message::declaratie::DeclaratieAntwoord;
use crate::message::Wmo325;
use crate::rules::inmessage::shared::{child, cs002, nth, tr134, Findings};
use crate::rules::Finding;

/// Level-2 findings of a WMO325, in document order.
pub fn check_325(m: &Wmo325) -> Vec<Finding> {
    let mut out = Findings::default();
    let Some(a) = &m.declaratie_antwoord else {
        return Vec::new();
    };
    let dag = m.header.header.bericht_identificatie.dagtekening;
    let lines = lines(ANTWOORD, &a.clienten, |c| {
        c.item.prestaties.iter().map(|p| &p.item).collect()
    });

    cs325_totaal(
        &mut out,
        &child(ANTWOORD, "TotaalIngediendBedrag"),
        &a.totaal_ingediend_bedrag,
    );
    cs325_totaal(
        &mut out,
        &child(ANTWOORD, "TotaalToegekendBedrag"),
        &a.totaal_toegekend_bedrag,
    );
    let clienten_path = child(ANTWOORD, "Clienten");
    let runs = runs(&lines, a.clienten.iter().map(|c| c.item.prestaties.len()));
    for ((ci, c), (_, mine)) in a.clienten.iter().enumerate().zip(runs) {
        let client_path = nth(&clienten_path, "Client", ci, a.clienten.len());
        cs002(&mut out, || child(&client_path, "Bsn"), &c.item.bsn);
        for l in mine {
            let pp = l.at("ProductPeriode");
            let periode = &l.p.product_periode;
            let begin = child(&pp, "Begindatum");
            tr134(
                &mut out,
                || begin.clone(),
                "Begindatum van de ProductPeriode",
                periode.begindatum,
                dag,
                true,
            );
            let what = format!("ProductPeriode van ReferentieNummer {}", l.referentie());
            tr137(&mut out, &pp, &what, periode, dag);
            cs325_bedrag(&mut out, &l.at("IngediendBedrag"), &l.p.ingediend_bedrag);
            cd060(&mut out, l);
        }
        tr101_prestaties(&mut out, mine);
    }
    tr101_clienten(
        &mut out,
        ANTWOORD,
        a.clienten.iter().map(|c| c.item.bsn).collect(),
    );
    tr342(&mut out, a, &lines);
    out.into_vec()
}

/// TR342 at DeclaratieAntwoord: the returned (rejected) Prestaties explain the difference
/// between TotaalIngediendBedrag and TotaalToegekendBedrag; when the whole declaration is
/// rejected, TotaalToegekendBedrag is 0.
fn tr342(out: &mut Findings, a: &DeclaratieAntwoord, lines: &[Line<'_>]) {
    let ingediend = signed_totaal(&a.totaal_ingediend_bedrag);
    let toegekend = signed_totaal(&a.totaal_toegekend_bedrag);
    let alleen_gewone_codes = a
        .retour_codes
        .iter()
        .all(|c| matches!(c, RetourCode::R0200 | RetourCode::R8001));
    if alleen_gewone_codes {
        let afgewezen = saldo(lines);
        if afgewezen != ingediend.checked_sub(toegekend) {
            let afgewezen_text =
                afgewezen.map_or_else(|| "te groot".to_string(), |s| signed_euro(s).to_string());
            out.add(
                "TR342",
                vec![
                    child(ANTWOORD, "TotaalIngediendBedrag"),
                    child(ANTWOORD, "TotaalToegekendBedrag"),
                ],
                format!(
                    "ingediend {} − toegekend {} ≠ afgewezen prestaties {afgewezen_text}",
                    signed_euro(ingediend),
                    signed_euro(toegekend)
                ),
            );
        }
    } else if toegekend != 0 {
        out.add(
            "TR342",
            vec![child(ANTWOORD, "TotaalToegekendBedrag")],
            format!(
                "hele declaratie afgewezen maar TotaalToegekendBedrag {}",
                signed_euro(toegekend)
            ),
        );
    }
}
