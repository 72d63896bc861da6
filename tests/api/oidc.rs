//! OpenID Connect through the router: people from the identity provider (a key pair and JWKS this
//! test makes) keep four-eyes and gemeente scope; an expired token and one signed by another key
//! are refused with 401 problem+json.

use axum::http::StatusCode;
use iwmo::app::config::Config;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::{json, Value};

use super::common;
use super::harness::{started_january, World};

const ISS: &str = "https://login.gemeente.example/realms/iwmo";
const AUD: &str = "iwmo";

/// An Ed25519 key of the identity provider: (signing key, JWK).
fn key(kid: &str) -> (EncodingKey, Value) {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
    let public = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
        .unwrap()
        .public_key()
        .as_ref()
        .to_vec();
    let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": common::b64(&public), "kid": kid, "alg": "EdDSA", "use": "sig"});
    (EncodingKey::from_ed_der(pkcs8.as_ref()), jwk)
}

fn token(k: &EncodingKey, naam: &str, exp_in: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"iss": ISS, "aud": AUD, "iat": now, "exp": now + exp_in, "sub": naam,
        "preferred_username": naam, "iwmo_rol": "financien", "iwmo_gemeenten": ["0344"]});
    let mut h = Header::new(Algorithm::EdDSA);
    h.kid = Some("k1".into());
    jsonwebtoken::encode(&h, &claims, k).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_people_keep_four_eyes_and_scope() {
    for db in common::backends() {
        let l = db.backend;
        let (signing, jwk) = key("k1");
        let (other, _) = key("k1");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("jwks.json");
        std::fs::write(&file, json!({"keys": [jwk]}).to_string()).unwrap();
        let config = Config {
            oidc_issuer: Some(ISS.into()),
            oidc_audience: Some(AUD.into()),
            oidc_jwks_file: Some(file),
            ..Config::default()
        };
        let w = World::with_config(db, config).await;
        w.process(&started_january());
        let (jan, piet) = (
            token(&signing, "j.jansen", 300),
            token(&signing, "p.pietersen", 300),
        );
        let r = w
            .post(
                "/api/v1/betaalrondes",
                &jan,
                json!({"gemeente": "0344", "tot_en_met": "2025-01-31"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "[{l}] {}", r.text());
        let id = r.json()["id"].as_i64().unwrap();
        assert_eq!(r.json()["aangemaakt_door"], "j.jansen");
        let uri = format!("/api/v1/betaalrondes/{id}/fiattering");
        assert_eq!(
            w.post(&uri, &jan, json!({})).await.status,
            StatusCode::FORBIDDEN,
            "[{l}]"
        );
        let r = w
            .post(
                "/api/v1/betaalrondes",
                &piet,
                json!({"gemeente": "0345", "tot_en_met": "2025-01-31"}),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "[{l}] 0345 lies outside the claim"
        );
        let expired = token(&signing, "p.pietersen", -600);
        let r = w.post(&uri, &expired, json!({})).await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "[{l}] expired: {}",
            r.text()
        );
        assert_eq!(r.ctype, "application/problem+json");
        let forged = token(&other, "p.pietersen", 300);
        let r = w.post(&uri, &forged, json!({})).await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "[{l}] wrongly signed: {}",
            r.text()
        );
        let r = w.post(&uri, &piet, json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "[{l}] {}", r.text());
        assert_eq!(r.json()["gefiatteerd_door"], "p.pietersen");
        // Bearer tokens of `iwmo gebruikers` still work beside OIDC.
        let ad = w.user("ad", "auditor", &["0344"]);
        assert_eq!(
            w.get(&format!("/api/v1/betaalrondes/{id}"), &ad)
                .await
                .status,
            StatusCode::OK
        );
    }
}
