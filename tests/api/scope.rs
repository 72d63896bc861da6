//! Gemeente scope on every endpoint: a 0344 user sees and changes nothing of 0345 — each answer
//! is the very 404 of a run that does not exist — and tokens that are missing, unknown or
//! revoked are refused; a role answers 403 where it may not act.

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::common;
use super::harness::{declaratie, in_0345, start, started_january, toewijzingen, World};

/// Approved, started January lines in 0344 and in 0345; a concept run in 0345.
async fn two_gemeenten(db: common::TestDb) -> (World, i64) {
    let w = World::new(db).await;
    let mut m = started_january();
    let mut m45: Vec<String> = toewijzingen("U", 100_100, 100_110)
        .iter()
        .map(|x| in_0345(x))
        .collect();
    m45.extend((100_100..100_104).map(|nr| in_0345(&start(&format!("V{nr}"), nr))));
    m45.push(in_0345(&declaratie("E1", "DECLE", 4, 1, 100_100)));
    m.extend(m45);
    w.process(&m);
    let vera = w.user("vera", "financien", &["0345"]);
    let r = w
        .post(
            "/api/v1/betaalrondes",
            &vera,
            json!({"gemeente": "0345", "tot_en_met": "2025-01-31"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    (w, r.json()["id"].as_i64().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_0344_user_sees_and_changes_nothing_of_0345() {
    for db in common::backends() {
        let l = db.backend;
        let (w, foreign) = two_gemeenten(db).await;
        let anna = w.user("anna", "financien", &["0344"]);
        let ad = w.user("ad", "auditor", &["0344"]);
        let absent = 999_999;
        let endpoints: Vec<(Method, &str)> = vec![
            (Method::GET, ""),
            (Method::GET, "/regels"),
            (Method::POST, "/fiattering"),
            (Method::GET, "/sepa"),
            (Method::GET, "/journaal.csv"),
            (Method::POST, "/betaald"),
            (Method::POST, "/intrekking"),
        ];
        for token in [&anna, &ad] {
            for (method, tail) in &endpoints {
                let body = (*method == Method::POST).then(|| json!({}));
                let theirs = w
                    .call(
                        method.clone(),
                        &format!("/api/v1/betaalrondes/{foreign}{tail}"),
                        Some(token),
                        body.clone(),
                    )
                    .await;
                let none = w
                    .call(
                        method.clone(),
                        &format!("/api/v1/betaalrondes/{absent}{tail}"),
                        Some(token),
                        body,
                    )
                    .await;
                let expect = if token == &ad && (*method == Method::POST || *tail == "/sepa") {
                    StatusCode::FORBIDDEN // an auditor changes nothing, anywhere
                } else {
                    StatusCode::NOT_FOUND
                };
                assert_eq!(
                    theirs.status,
                    expect,
                    "[{l}] {method} {tail}: {}",
                    theirs.text()
                );
                assert_eq!(
                    theirs.body, none.body,
                    "[{l}] {method} {tail}: same answer as a run that does not exist"
                );
            }
        }
        // Lists and reconciliation: nothing of 0345.
        let list = w.get("/api/v1/betaalrondes", &anna).await.json();
        assert_eq!(list["items"].as_array().unwrap().len(), 0, "[{l}] {list}");
        let list = w
            .get("/api/v1/betaalrondes?gemeente=0345", &anna)
            .await
            .json();
        assert_eq!(list["items"].as_array().unwrap().len(), 0, "[{l}] {list}");
        let r = w
            .get("/api/v1/afstemming?gemeente=0345&jaar=2025", &anna)
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "[{l}]");
        let r = w
            .post(
                "/api/v1/betaalrondes",
                &anna,
                json!({"gemeente": "0345", "tot_en_met": "2025-01-31"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "[{l}] {}", r.text());
        let g = w.get("/api/v1/gemeenten", &anna).await.json();
        assert_eq!(g.as_array().unwrap().len(), 1, "[{l}] only 0344: {g}");
        // Their own gemeente works.
        let r = w
            .get("/api/v1/afstemming?gemeente=0344&jaar=2025", &ad)
            .await;
        assert_eq!(r.status, StatusCode::OK, "[{l}] {}", r.text());
        let row = &r.json()["regels"][0];
        assert_eq!(row["maand"], "2025-01");
        assert_eq!(row["goedgekeurd_cents"], 4 * 27_400, "[{l}] {row}");
        // 0345's run is untouched and nobody of 0344 is in its log.
        let vera_view = w.store.run(foreign).await.unwrap().unwrap();
        assert_eq!(vera_view.status.as_str(), "concept");
        let acts = w
            .store
            .actions_on(&format!("betaalronde/{foreign}"))
            .await
            .unwrap();
        assert_eq!(acts.len(), 1, "[{l}] only its creation");
        assert_eq!(acts[0].gebruiker, "vera");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_and_roles_are_checked() {
    for db in common::backends() {
        let l = db.backend;
        let (w, foreign) = two_gemeenten(db).await;
        let uri = format!("/api/v1/betaalrondes/{foreign}");
        let r = w.call(Method::GET, &uri, None, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "[{l}]");
        assert_eq!(r.ctype, "application/problem+json");
        assert_eq!(r.headers["www-authenticate"], "Bearer");
        let r = w.get(&uri, "iwmo_bestaatniet").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "[{l}]");
        let piet = w.user("piet", "financien", &[]);
        assert_eq!(
            w.get(&uri, &piet).await.status,
            StatusCode::OK,
            "[{l}] all gemeenten"
        );
        w.cli(&["gebruikers", "intrekken", "piet"]);
        let r = w.get(&uri, &piet).await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "[{l}] revoked: {}",
            r.text()
        );
        // Roles: backoffice may not read runs; contractbeheer imports aanbieders, finance not.
        let bo = w.user("bo", "backoffice", &[]);
        assert_eq!(
            w.get(&uri, &bo).await.status,
            StatusCode::FORBIDDEN,
            "[{l}]"
        );
        let fin = w.user("fin", "financien", &[]);
        let csv = axum::http::Request::builder()
            .method(Method::POST)
            .uri("/api/v1/aanbieders")
            .header("authorization", format!("Bearer {fin}"))
            .header("content-type", "text/csv")
            .body(axum::body::Body::from(
                "agb_code,naam,iban,bic\n12345678,X,NL91ABNA0417164300,\n",
            ))
            .unwrap();
        assert_eq!(w.send(csv).await.status, StatusCode::FORBIDDEN, "[{l}]");
        let cb = w.user("cb", "contractbeheer", &[]);
        let bad = axum::http::Request::builder()
            .method(Method::POST)
            .uri("/api/v1/aanbieders")
            .header("authorization", format!("Bearer {cb}"))
            .header("content-type", "text/csv")
            .body(axum::body::Body::from(
                "agb_code,naam,iban,bic\n12345678,X,NL91ABNA0417164301,\n",
            ))
            .unwrap();
        let r = w.send(bad).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "[{l}] {}",
            r.text()
        );
        assert_eq!(r.json()["fouten"][0]["regel"], 2, "[{l}] {}", r.text());
        assert_eq!(r.json()["fouten"][0]["kolom"], "iban");
        // Malformed JSON, unknown fields, a trailing slash: problem+json in Dutch.
        let r = w
            .call(
                Method::POST,
                "/api/v1/betaalrondes",
                Some(&fin),
                Some(json!({"gemeente": "0344"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "[{l}] {}", r.text());
        assert!(r.json()["detail"]
            .as_str()
            .unwrap()
            .starts_with("Ongeldige inhoud"));
        let r = w.get("/api/v1/betaalrondes/", &fin).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("schuine streep"));
        let r = w.call(Method::DELETE, &uri, Some(&fin), None).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.ctype, "application/problem+json");
        assert_eq!(r.headers["api-version"], "1.0.0");
    }
}
