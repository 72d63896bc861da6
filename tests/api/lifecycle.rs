//! The life of payment runs on both backends, through the router: create (with held lines left
//! out and reported), four-eyes, 409s, SEPA (valid, sums to the total, same bytes again),
//! journal, paid; a released hold and a credit after payment land in the next run; withdrawal
//! frees the lines; two runs made at once never share a line.

use axum::http::StatusCode;
use serde_json::json;

use super::common;
use super::harness::{credit, declaratie, sepa_valid, start, toewijzingen, World};

/// 301s for clients 0 and 1 (toewijzingen 100000–100019), starts for client 0 only, and a
/// January declaration of 4 lines for each client: client 1's lines are held (no start).
async fn world(db: common::TestDb) -> World {
    let w = World::new(db).await;
    let mut m = toewijzingen("T", 100_000, 100_020);
    m.extend((100_000..100_004).map(|nr| start(&format!("S{nr}"), nr)));
    m.push(declaratie("D1", "DECLA", 4, 1, 100_000));
    m.push(declaratie("D2", "DECLB", 4, 1, 100_010));
    w.process(&m);
    w
}

fn cents(v: &serde_json::Value, k: &str) -> i64 {
    v[k].as_i64().unwrap_or_else(|| panic!("{k} in {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_lifecycle_with_four_eyes_and_conflicts() {
    for db in common::backends() {
        let l = db.backend;
        let w = world(db).await;
        let anna = w.user("anna", "financien", &["0344"]);
        let bert = w.user("bert", "financien", &["0344"]);

        let r = w
            .post(
                "/api/v1/betaalrondes",
                &anna,
                json!({"gemeente": "0344", "tot_en_met": "2025-01-31"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "[{l}] {}", r.text());
        assert_eq!(r.headers["api-version"], "1.0.0");
        let run = r.json();
        let id = run["id"].as_i64().unwrap();
        assert_eq!(
            r.headers["location"],
            format!("/api/v1/betaalrondes/{id}").as_str()
        );
        assert_eq!(run["status"], "concept", "[{l}]");
        assert_eq!(run["aantal_regels"], 4, "[{l}] {run}");
        assert_eq!(cents(&run, "totaal_cents"), 4 * 27_400, "[{l}]");
        assert_eq!(run["aanbieders"][0]["agb_code"], "87654321");
        assert_eq!(run["aanbieders"][0]["aantal_regels"], 4);
        assert_eq!(
            run["vastgehouden"]["aantal"], 4,
            "[{l}] held lines of client 1: {run}"
        );
        assert_eq!(cents(&run["vastgehouden"], "bedrag_cents"), 4 * 27_400);
        assert!(!run["vastgehouden"]["redenen"][0]["reden"]
            .as_str()
            .unwrap()
            .is_empty());

        // Four-eyes: the creator may not approve; nothing changes.
        let r = w
            .post(
                &format!("/api/v1/betaalrondes/{id}/fiattering"),
                &anna,
                json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "[{l}]");
        assert_eq!(r.ctype, "application/problem+json");
        assert!(
            r.json()["detail"].as_str().unwrap().contains("vier-ogen"),
            "[{l}] {}",
            r.text()
        );
        // SEPA before approval: 409.
        let r = w
            .get(&format!("/api/v1/betaalrondes/{id}/sepa"), &bert)
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "[{l}] {}", r.text());
        // Paid before export: 409.
        let r = w
            .post(
                &format!("/api/v1/betaalrondes/{id}/betaald"),
                &bert,
                json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "[{l}]");

        let r = w
            .post(
                &format!("/api/v1/betaalrondes/{id}/fiattering"),
                &bert,
                json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "[{l}] {}", r.text());
        assert_eq!(r.json()["status"], "gefiatteerd");
        assert_eq!(r.json()["gefiatteerd_door"], "bert");
        // Approving twice: 409.
        let r = w
            .post(
                &format!("/api/v1/betaalrondes/{id}/fiattering"),
                &bert,
                json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "[{l}]");

        // SEPA: valid, sums to the total, the same bytes the second time.
        let first = w
            .get(&format!("/api/v1/betaalrondes/{id}/sepa"), &anna)
            .await;
        assert_eq!(first.status, StatusCode::OK, "[{l}] {}", first.text());
        assert_eq!(first.ctype, "application/xml");
        let file = std::path::PathBuf::from(w.path(&format!("sepa-{id}.xml")));
        std::fs::write(&file, &first.body).unwrap();
        sepa_valid(&file).unwrap_or_else(|e| panic!("[{l}] SEPA invalid: {e}"));
        assert_eq!(sum_instd_amt(&first.text()), 4 * 27_400, "[{l}]");
        assert!(
            first.text().contains("NL91ABNA0417164300")
                && first.text().contains("NL69INGB0123456789")
        );
        let again = w
            .get(&format!("/api/v1/betaalrondes/{id}/sepa"), &bert)
            .await;
        assert_eq!(
            again.body, first.body,
            "[{l}] a second export gives the same bytes"
        );
        let run = w
            .get(&format!("/api/v1/betaalrondes/{id}"), &anna)
            .await
            .json();
        assert_eq!(run["status"], "geexporteerd");
        // Withdrawing an exported run: 409.
        let r = w
            .post(
                &format!("/api/v1/betaalrondes/{id}/intrekking"),
                &anna,
                json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "[{l}]");

        let j = w
            .get(&format!("/api/v1/betaalrondes/{id}/journaal.csv"), &anna)
            .await;
        assert_eq!(j.status, StatusCode::OK);
        assert!(j.ctype.starts_with("text/csv"));
        let jtext = j.text();
        let lines: Vec<&str> = jtext.lines().map(str::trim_end).collect::<Vec<_>>();
        assert_eq!(
            lines.len(),
            2,
            "[{l}] header + one aanbieder × categorie: {lines:?}"
        );
        assert!(
            lines[1].contains("87654321") && lines[1].contains("109600"),
            "[{l}] {}",
            lines[1]
        );

        let r = w
            .post(
                &format!("/api/v1/betaalrondes/{id}/betaald"),
                &bert,
                json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "[{l}] {}", r.text());
        assert_eq!(r.json()["status"], "betaald");

        // Lines page by page (keyset), no BSN in them.
        let p1 = w
            .get(&format!("/api/v1/betaalrondes/{id}/regels?limiet=3"), &anna)
            .await
            .json();
        assert_eq!(p1["items"].as_array().unwrap().len(), 3);
        let next = p1["volgende"].as_str().expect("next page link");
        let p2 = w.get(next, &anna).await.json();
        assert_eq!(p2["items"].as_array().unwrap().len(), 1, "[{l}] {p2}");
        assert!(p2["volgende"].is_null());
        assert!(
            !p1.to_string().contains(&iwmo::testkit::synth::bsn(0)),
            "[{l}] no BSN in lines"
        );

        // Nothing left to pay: 422 with the held count.
        let r = w
            .post(
                "/api/v1/betaalrondes",
                &anna,
                json!({"gemeente": "0344", "tot_en_met": "2025-01-31"}),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "[{l}] {}",
            r.text()
        );

        // Client 1 starts: the held lines become payable in the next run.
        w.process(
            &(100_010..100_014)
                .map(|nr| start(&format!("S{nr}"), nr))
                .collect::<Vec<_>>(),
        );
        let r = w
            .post(
                "/api/v1/betaalrondes",
                &bert,
                json!({"gemeente": "0344", "tot_en_met": "2025-01-31"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "[{l}] {}", r.text());
        let second = r.json();
        assert_eq!(second["aantal_regels"], 4, "[{l}] released lines: {second}");
        assert_eq!(second["vastgehouden"]["aantal"], 0);
        let id2 = second["id"].as_i64().unwrap();

        // Withdrawn: its lines are free again for a third run.
        let r = w
            .post(
                &format!("/api/v1/betaalrondes/{id2}/intrekking"),
                &anna,
                json!({"reden": "verkeerde datum"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "[{l}] {}", r.text());
        assert_eq!(r.json()["status"], "ingetrokken");
        assert_eq!(r.json()["reden"], "verkeerde datum");
        let r = w
            .post(
                "/api/v1/betaalrondes",
                &anna,
                json!({"gemeente": "0344", "tot_en_met": "2025-01-31"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "[{l}] {}", r.text());
        assert_eq!(r.json()["aantal_regels"], 4);

        // Every step is in the action log, and the chain holds.
        let acts = w
            .store
            .actions_on(&format!("betaalronde/{id}"))
            .await
            .unwrap();
        let kinds: Vec<&str> = acts.iter().map(|a| a.actie.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "betaalronde.aanmaken",
                "betaalronde.fiatteren",
                "betaalronde.exporteren",
                "betaalronde.exporteren",
                "betaalronde.betaald"
            ],
            "[{l}]"
        );
        assert!(w.store.verify_chain().await.unwrap().is_ok(), "[{l}]");
    }
}

/// Σ InstdAmt in cents.
fn sum_instd_amt(xml: &str) -> i64 {
    xml.split("<InstdAmt Ccy=\"EUR\">")
        .skip(1)
        .map(|s| {
            let v = &s[..s.find('<').unwrap()];
            let (e, c) = v.split_once('.').unwrap();
            e.parse::<i64>().unwrap() * 100 + c.parse::<i64>().unwrap()
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credit_after_payment_nets_in_the_next_run() {
    for db in common::backends() {
        let l = db.backend;
        let w = world(db).await;
        let anna = w.user("anna", "financien", &[]);
        let bert = w.user("bert", "financien", &[]);
        let id = pay(&w, &anna, &bert, "2025-01-31").await;
        // A credit for the first January line of client 0, and February's lines.
        w.process(&[
            credit("C1", "DECLC", "DECLA-0000000", 100_000, 1),
            declaratie("D3", "DECLF", 4, 2, 100_000),
        ]);
        let r = w
            .post(
                "/api/v1/betaalrondes",
                &anna,
                json!({"gemeente": "0344", "tot_en_met": "2025-02-28"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "[{l}] {}", r.text());
        let next = r.json();
        assert_ne!(next["id"].as_i64().unwrap(), id);
        assert_eq!(
            next["aantal_regels"], 5,
            "[{l}] 4 debits + 1 credit: {next}"
        );
        assert_eq!(
            cents(&next, "totaal_cents"),
            3 * 27_400,
            "[{l}] the credit nets: {next}"
        );
        // The journal shows debit and credit apart.
        let nid = next["id"].as_i64().unwrap();
        let j = w
            .get(&format!("/api/v1/betaalrondes/{nid}/journaal.csv"), &anna)
            .await
            .text();
        assert!(
            j.lines()
                .nth(1)
                .unwrap()
                .contains(",109600,27400,82200,822.00"),
            "[{l}] {j}"
        );
    }
}

/// Creates, approves (as the other), exports and pays a run; returns its id.
async fn pay(w: &World, maker: &str, approver: &str, tot: &str) -> i64 {
    let r = w
        .post(
            "/api/v1/betaalrondes",
            maker,
            json!({"gemeente": "0344", "tot_en_met": tot}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["id"].as_i64().unwrap();
    assert_eq!(
        w.post(
            &format!("/api/v1/betaalrondes/{id}/fiattering"),
            approver,
            json!({})
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(
        w.get(&format!("/api/v1/betaalrondes/{id}/sepa"), approver)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        w.post(
            &format!("/api/v1/betaalrondes/{id}/betaald"),
            approver,
            json!({})
        )
        .await
        .status,
        StatusCode::OK
    );
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_runs_made_at_once_never_share_a_line() {
    for db in common::backends() {
        let l = db.backend;
        let w = World::new(db).await;
        let mut m = toewijzingen("T", 100_000, 100_200);
        m.extend((100_000..100_200).map(|nr| start(&format!("S{nr}"), nr)));
        m.push(declaratie("D1", "DECLA", 200, 1, 100_000));
        w.process(&m);
        let anna = w.user("anna", "financien", &[]);
        let bert = w.user("bert", "financien", &[]);
        let body = json!({"gemeente": "0344", "tot_en_met": "2025-01-31"});
        let (a, b) = tokio::join!(
            w.post("/api/v1/betaalrondes", &anna, body.clone()),
            w.post("/api/v1/betaalrondes", &bert, body.clone())
        );
        let made: Vec<i64> = [&a, &b]
            .iter()
            .filter(|r| r.status == StatusCode::CREATED)
            .map(|r| r.json()["aantal_regels"].as_i64().unwrap())
            .collect();
        assert!(!made.is_empty(), "[{l}] {} {}", a.text(), b.text());
        assert_eq!(
            made.iter().sum::<i64>(),
            200,
            "[{l}] every line in exactly one run: {made:?}"
        );
        for r in [&a, &b] {
            assert!(
                r.status == StatusCode::CREATED || r.status == StatusCode::UNPROCESSABLE_ENTITY,
                "[{l}] {} {}",
                r.status,
                r.text()
            );
        }
        // The database itself refuses a second live row for a line.
        let dup = sqlx::query(
            "INSERT INTO betaalronde_regels (betaalronde_id, prestatie_id, aanbieder, bedrag_cents, actief) \
             SELECT betaalronde_id + 1000, prestatie_id, aanbieder, bedrag_cents, 1 FROM betaalronde_regels LIMIT 1",
        )
        .execute(w.store.pool())
        .await;
        assert!(
            dup.is_err(),
            "[{l}] the unique index must refuse a line in two live runs"
        );
    }
}
