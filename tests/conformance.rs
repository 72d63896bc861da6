//! Level 1 conformance: our verdicts equal the official XSDs' (through ../shared/tools/xsd-validate.py),
//! every message we write validates, and parse → write → parse is the identity.

mod common;

use std::path::PathBuf;

use chrono::NaiveDate;
use iwmo::check::check_bytes;
use iwmo::domain::RetourCode;
use iwmo::message::{read, Message, ReadOptions};
use iwmo::retour::{self, DeclaratieAnswer, RetourMeta, StartStopAnswer, WijzigingAnswer};

fn all_fixtures() -> Vec<PathBuf> {
    let mut v = common::fixtures("valid");
    v.extend(common::fixtures("broken"));
    v
}

/// Intake refusals that are stricter than the XSD by design (iWmo messages are UTF-8 without
/// DOCTYPE; the XSD cannot say so).
fn stricter_than_xsd(verdict: &iwmo::check::Verdict) -> bool {
    verdict.verdict == "intake"
        && matches!(
            verdict.error.as_ref().map(|e| e.kind),
            Some("doctype" | "encoding")
        )
}

#[test]
fn fixture_verdicts_match_their_expectations() {
    let mut failures = Vec::new();
    for (sub, exp) in [
        ("valid", common::verdicts("valid")),
        ("broken", common::verdicts("broken")),
    ] {
        for f in common::fixtures(sub) {
            let name = f.file_name().unwrap().to_str().unwrap().to_string();
            let e = &exp[&name];
            assert!(
                !e.is_null(),
                "{name} has no entry in fixtures/{sub}/verdicts.json"
            );
            let v = check_bytes(&name, &common::read(&f), ReadOptions::default());
            let want = e["verdict"].as_str().unwrap();
            match want {
                // Level 2 expectations are checked rule by rule in tests/level2.rs.
                "level2" if v.verdict != "level2" => {
                    failures.push(format!(
                        "{name}: expected level2, got {} {:?}",
                        v.verdict, v.errors
                    ));
                }
                _ if v.verdict != want => failures.push(format!(
                    "{name}: expected {want}, got {} (error {:?}, errors {:?}, findings {:?})",
                    v.verdict, v.error, v.errors, v.findings
                )),
                "intake" => {
                    let got = v.error.as_ref().map(|e| e.kind).unwrap_or("");
                    if got != e["error"].as_str().unwrap() {
                        failures.push(format!("{name}: intake {got} != {}", e["error"]));
                    }
                }
                "level1" => {
                    let path = e["element"].as_str().unwrap();
                    if !v.errors.iter().any(|x| x.path == path) {
                        failures.push(format!("{name}: no error at {path}: {:?}", v.errors));
                    }
                }
                _ => {}
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn level1_verdict_equals_the_official_xsd() {
    if !common::xsd_oracle_available() {
        return;
    }
    let files = all_fixtures();
    assert!(files.len() >= 100, "corpus too small: {}", files.len());
    let oracle = common::xsd_validate(&files);
    let mut failures = Vec::new();
    let mut compared = 0;
    for (f, (xsd_valid, msgs)) in files.iter().zip(oracle) {
        let v = check_bytes(
            &f.display().to_string(),
            &common::read(f),
            ReadOptions::default(),
        );
        if stricter_than_xsd(&v) {
            continue;
        }
        compared += 1;
        let ours_valid = matches!(v.verdict, "valid" | "level2");
        if ours_valid != xsd_valid {
            failures.push(format!(
                "{}: ours {} ({:?} {:?}), XSD says {}",
                f.display(),
                v.verdict,
                v.error,
                v.errors,
                if msgs.is_empty() { "?".into() } else { msgs }
            ));
        }
    }
    eprintln!("compared {compared} fixtures with the official XSD");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The retour is dated a week after the heenbericht (a retour can never predate it).
fn meta_after(heen: NaiveDate) -> RetourMeta {
    RetourMeta {
        identificatie: "RT0000000001".into(),
        dagtekening: heen + chrono::Days::new(7),
    }
}

fn meta() -> RetourMeta {
    meta_after(NaiveDate::from_ymd_opt(2025, 3, 5).unwrap())
}

/// Every answer variant for every valid 305/307/315/317/323 fixture.
fn written_retours() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in common::fixtures("valid") {
        let name = f.file_stem().unwrap().to_str().unwrap().to_string();
        let parsed = read(&common::read(&f), ReadOptions::default()).unwrap();
        match &parsed.message {
            Message::Wmo305(m) => {
                for (tag, a) in start_stop_answers(m.client.producten.len()) {
                    out.push((
                        format!("{name}-306-{tag}"),
                        retour::start_stop(
                            m,
                            &meta_after(m.header.bericht_identificatie.dagtekening),
                            &a,
                        )
                        .to_xml(),
                    ));
                }
            }
            Message::Wmo307(m) => {
                for (tag, a) in start_stop_answers(m.client.producten.len()) {
                    out.push((
                        format!("{name}-308-{tag}"),
                        retour::start_stop(
                            m,
                            &meta_after(m.header.bericht_identificatie.dagtekening),
                            &a,
                        )
                        .to_xml(),
                    ));
                }
            }
            Message::Wmo315(m) => {
                let meta = meta_after(m.header.bericht_identificatie.dagtekening);
                let mut answers = start_stop_answers(m.client.producten.len());
                answers.push((
                    "client",
                    StartStopAnswer::Classes {
                        client: vec![RetourCode::R9374],
                        products: vec![vec![RetourCode::R9347, RetourCode::RS329]],
                    },
                ));
                for (tag, a) in answers {
                    let x = retour::verzoek_om_toewijzing(m, &meta, &a).to_xml();
                    out.push((format!("{name}-316-{tag}"), x));
                }
            }
            Message::Wmo317(m) => {
                let meta = meta_after(m.header.bericht_identificatie.dagtekening);
                for (tag, a) in wijziging_answers(m) {
                    let x = retour::verzoek_om_wijziging(m, &meta, &a).to_xml();
                    out.push((format!("{name}-318-{tag}"), x));
                }
            }
            Message::Wmo323(m) => {
                let n: Vec<usize> = m
                    .declaratie
                    .clienten
                    .iter()
                    .map(|c| c.prestaties.len())
                    .collect();
                let all_ok = DeclaratieAnswer::PerPrestatie {
                    client_codes: vec![vec![]; n.len()],
                    codes: n.iter().map(|&k| vec![vec![]; k]).collect(),
                };
                let first_rejected = DeclaratieAnswer::PerPrestatie {
                    client_codes: vec![vec![]; n.len()],
                    codes: n
                        .iter()
                        .enumerate()
                        .map(|(c, &k)| {
                            (0..k)
                                .map(|p| {
                                    if c == 0 && p == 0 {
                                        vec![RetourCode::R9321]
                                    } else {
                                        vec![]
                                    }
                                })
                                .collect()
                        })
                        .collect(),
                };
                let all_rejected = DeclaratieAnswer::PerPrestatie {
                    client_codes: vec![vec![]; n.len()],
                    codes: n
                        .iter()
                        .map(|&k| vec![vec![RetourCode::R0611, RetourCode::R9346]; k])
                        .collect(),
                };
                let client_rejected = DeclaratieAnswer::PerPrestatie {
                    client_codes: (0..n.len())
                        .map(|c| {
                            if c == 0 {
                                vec![RetourCode::R8187]
                            } else {
                                vec![]
                            }
                        })
                        .collect(),
                    codes: n.iter().map(|&k| vec![vec![]; k]).collect(),
                };
                for (tag, a) in [
                    ("l2", DeclaratieAnswer::Level2),
                    ("header", DeclaratieAnswer::Header(vec![RetourCode::R9056])),
                    (
                        "decl",
                        DeclaratieAnswer::Declaratie(vec![RetourCode::R9333]),
                    ),
                    ("ok", all_ok),
                    ("first", first_rejected),
                    ("all", all_rejected),
                    ("client", client_rejected),
                ] {
                    let x = retour::declaratie(
                        m,
                        &meta_after(m.header.bericht_identificatie.dagtekening),
                        &a,
                    )
                    .unwrap();
                    out.push((format!("{name}-325-{tag}"), x.to_xml()));
                }
            }
            _ => {}
        }
    }
    out
}

fn wijziging_answers(m: &iwmo::message::Wmo317) -> Vec<(&'static str, WijzigingAnswer)> {
    let v = &m.client.verzoek;
    let empty = |n: usize| vec![Vec::new(); n];
    vec![
        ("ok", WijzigingAnswer::Approved),
        ("l2", WijzigingAnswer::Level2),
        ("header", WijzigingAnswer::Header(vec![RetourCode::R9056])),
        (
            "verzoek",
            WijzigingAnswer::Classes {
                client: vec![],
                verzoek: vec![RetourCode::R9349, RetourCode::R9374],
                ongewijzigd: empty(v.ongewijzigde_producten.len()),
                te_wijzigen: empty(v.te_wijzigen_producten.len()),
                nieuw: empty(v.nieuwe_producten.len()),
            },
        ),
        (
            "products",
            WijzigingAnswer::Classes {
                client: vec![],
                verzoek: vec![],
                ongewijzigd: vec![vec![RetourCode::R9350]; v.ongewijzigde_producten.len()],
                te_wijzigen: vec![vec![RetourCode::R9351]; v.te_wijzigen_producten.len()],
                nieuw: vec![vec![RetourCode::R9361]; v.nieuwe_producten.len()],
            },
        ),
    ]
}

fn start_stop_answers(n: usize) -> Vec<(&'static str, StartStopAnswer)> {
    vec![
        ("ok", StartStopAnswer::Approved),
        ("l2", StartStopAnswer::Level2),
        (
            "header",
            StartStopAnswer::Header(vec![RetourCode::R9056, RetourCode::R8848]),
        ),
        (
            "classes",
            StartStopAnswer::Classes {
                client: vec![],
                products: (0..n)
                    .map(|i| {
                        if i == 0 {
                            vec![RetourCode::R9063]
                        } else {
                            vec![]
                        }
                    })
                    .collect(),
            },
        ),
    ]
}

#[test]
fn round_trip_parse_write_parse() {
    for f in common::fixtures("valid") {
        let parsed = read(&common::read(&f), ReadOptions::default()).unwrap();
        let xml = parsed.message.to_xml().expect("typed");
        let again = read(xml.as_bytes(), ReadOptions::default()).unwrap_or_else(|e| {
            panic!(
                "{}: written message does not read back: {e:?}\n{xml}",
                f.display()
            )
        });
        assert_eq!(parsed.message, again.message, "{}", f.display());
        // Writing is deterministic.
        assert_eq!(again.message.to_xml().unwrap(), xml);
    }
}

#[test]
fn written_messages_and_retours_validate_against_the_official_xsd() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for f in common::fixtures("valid") {
        let parsed = read(&common::read(&f), ReadOptions::default()).unwrap();
        let p = dir
            .path()
            .join(format!("rt-{}", f.file_name().unwrap().to_str().unwrap()));
        std::fs::write(&p, parsed.message.to_xml().unwrap()).unwrap();
        files.push(p);
    }
    let retours = written_retours();
    assert!(retours.len() >= 60, "{}", retours.len());
    for kind in ["316", "318"] {
        let n = retours
            .iter()
            .filter(|(name, _)| name.contains(&format!("-{kind}-")))
            .count();
        assert!(n >= 8, "{n} written WMO{kind}");
    }
    for (name, xml) in &retours {
        // Our own reader accepts what we write, and level 2 finds nothing in it.
        let parsed = read(xml.as_bytes(), ReadOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e:?}\n{xml}"));
        let findings = iwmo::rules::inmessage::check(&parsed.message);
        assert!(findings.is_empty(), "{name}: {findings:?}");
        let p = dir.path().join(format!("{name}.xml"));
        std::fs::write(&p, xml).unwrap();
        files.push(p);
    }
    if !common::xsd_oracle_available() {
        return;
    }
    let bad: Vec<String> = files
        .iter()
        .zip(common::xsd_validate(&files))
        .filter(|(_, (ok, _))| !ok)
        .map(|(f, (_, m))| format!("{}: {m}", f.display()))
        .collect();
    eprintln!(
        "{} written messages checked against the official XSD",
        files.len()
    );
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn retour_structure_follows_the_reference() {
    let f = common::root().join("fixtures/valid/323b.xml");
    let Message::Wmo323(m) = read(&common::read(&f), ReadOptions::default())
        .unwrap()
        .message
    else {
        panic!()
    };
    // 325b of the reference: the February line (third Prestatie) rejected with 9321.
    let a = DeclaratieAnswer::PerPrestatie {
        client_codes: vec![vec![]],
        codes: vec![vec![vec![], vec![], vec![RetourCode::R9321]]],
    };
    let x = retour::declaratie(&m, &meta(), &a).unwrap();
    let da = x.declaratie_antwoord.as_ref().unwrap();
    assert_eq!(da.totaal_toegekend_bedrag.signed(), -13700);
    assert_eq!(da.retour_codes, vec![RetourCode::R0200]);
    assert_eq!(da.clienten.len(), 1);
    assert_eq!(da.clienten[0].item.prestaties.len(), 1);
    assert_eq!(x.header.retour_codes, vec![RetourCode::R0200]);
    assert_eq!(
        x.header.declaratie_identificatie,
        m.header.bericht_identificatie
    );
    assert_eq!(x.header.header.afzender, m.header.ontvanger);
    // Same structure as the reference's 325b.
    let expected = read(
        &common::read(&common::root().join("fixtures/valid/325b.xml")),
        ReadOptions::default(),
    )
    .unwrap();
    let Message::Wmo325(e) = expected.message else {
        panic!()
    };
    assert_eq!(e.declaratie_antwoord, x.declaratie_antwoord);
}

#[test]
fn verzoek_retours_follow_the_306_pattern() {
    use iwmo::message::{Wmo315, Wmo317};
    let load = |f: &str| {
        read(
            &common::read(&common::root().join("fixtures/valid").join(f)),
            ReadOptions::default(),
        )
        .unwrap()
        .message
    };
    let Message::Wmo315(vot) = load("315b.xml") else {
        panic!()
    };
    let vot: Wmo315 = vot;
    let m = meta_after(vot.header.bericht_identificatie.dagtekening);

    // Fully approved: header only, no codes, no XsltVersie.
    let x = retour::verzoek_om_toewijzing(&vot, &m, &StartStopAnswer::Approved);
    assert!(x.client.is_none() && x.header.retour_codes.is_empty());
    assert_eq!(x.header.heen, vot.header);
    assert_eq!(x.header.identificatie_retour, m.identificatie);
    // Level 2: 0001 with the XSLT version.
    let x = retour::verzoek_om_toewijzing(&vot, &m, &StartStopAnswer::Level2);
    assert_eq!(x.header.retour_codes, vec![RetourCode::R0001]);
    assert_eq!(
        x.header.xslt_versie.map(|v| v.to_string()),
        Some("2.10.5".into())
    );
    assert!(x.client.is_none());
    // Level 3: the client mirrored, a code on every class.
    let a = StartStopAnswer::Classes {
        client: vec![],
        products: vec![vec![], vec![RetourCode::R9347]],
    };
    let x = retour::verzoek_om_toewijzing(&vot, &m, &a);
    assert_eq!(x.header.retour_codes, vec![RetourCode::R0200]);
    let c = x.client.as_ref().expect("client");
    assert_eq!(c.retour_codes, vec![RetourCode::R0200]);
    assert_eq!(c.item.commentaar, vot.client.commentaar);
    let codes: Vec<Vec<RetourCode>> = c
        .item
        .producten
        .iter()
        .map(|p| p.retour_codes.clone())
        .collect();
    assert_eq!(
        codes,
        vec![
            vec![RetourCode::R0200],
            vec![RetourCode::R9347],
            vec![RetourCode::R0200],
            vec![RetourCode::R0200]
        ]
    );
    assert_eq!(c.item.producten[1].item, vot.client.producten[1]);
    // The written 316 reads back to the same retour.
    let Message::Wmo316(back) = read(x.to_xml().as_bytes(), ReadOptions::default())
        .unwrap()
        .message
    else {
        panic!()
    };
    assert_eq!(back, x);

    // 318 from a decision of the level-3 rules: TR351 on the TeWijzigenProduct (no toewijzing
    // stored), 0200 on the Client and the Verzoek.
    let Message::Wmo317(vow) = load("317a.xml") else {
        panic!()
    };
    let vow: Wmo317 = vow;
    let d = iwmo::rules::verzoek::check_317(
        &vow,
        &iwmo::rules::state::VerzoekSnapshot::default(),
        vow.header.bericht_identificatie.dagtekening,
    );
    let answer = WijzigingAnswer::from_decision(&d);
    let x = retour::verzoek_om_wijziging(&vow, &m, &answer);
    assert_eq!(x.header.retour_codes, vec![RetourCode::R0200]);
    let c = x.client.as_ref().expect("client");
    assert_eq!(c.retour_codes, vec![RetourCode::R0200]);
    assert_eq!(c.item.verzoek.retour_codes, vec![RetourCode::R0200]);
    let v = &c.item.verzoek.item;
    assert_eq!(
        v.referentie_aanbieder,
        vow.client.verzoek.referentie_aanbieder
    );
    assert_eq!(
        v.te_wijzigen_producten[0].retour_codes,
        vec![RetourCode::R9351]
    );
    assert!(v.ongewijzigde_producten.is_empty() && v.nieuwe_producten.is_empty());
    let Message::Wmo318(back) = read(x.to_xml().as_bytes(), ReadOptions::default())
        .unwrap()
        .message
    else {
        panic!()
    };
    assert_eq!(back, x);
    // TR374 goes on the Verzoek; an approved decision gives the header-only retour.
    let s = iwmo::rules::state::VerzoekSnapshot {
        open_verzoeken: vec!["VOT-2025-0001".into()],
        ..Default::default()
    };
    let d = iwmo::rules::verzoek::check_317(&vow, &s, vow.header.bericht_identificatie.dagtekening);
    match WijzigingAnswer::from_decision(&d) {
        WijzigingAnswer::Classes { verzoek, .. } => assert_eq!(verzoek, vec![RetourCode::R9374]),
        other => panic!("{other:?}"),
    }
    let d = iwmo::rules::verzoek::WijzigingDecision {
        te_wijzigen: vec![vec![]],
        ..Default::default()
    };
    assert_eq!(
        WijzigingAnswer::from_decision(&d),
        WijzigingAnswer::Approved
    );
}
