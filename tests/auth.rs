//! People and their credentials: bearer tokens of `iwmo gebruikers toevoegen` (only a hash
//! stored, revocable, printed once) on SQLite and PostgreSQL (IWMO_TEST_PG_URL), and OpenID
//! Connect JWTs checked against a JWKS from a file and from a URL served here (EdDSA and ES256
//! keys made with ring), with every way a token is refused and a key rotation.

mod common;

use common::b64;

use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use iwmo::app::config::Config;
use iwmo::auth::token::{nieuw_token, token_hash};
use iwmo::auth::{AuthError, Authenticator, Gemeenten, Principal, Rol};
use iwmo::store::{Store, StoreError};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_iwmo");
const ISS: &str = "https://idp.gemeente.example/realms/iwmo";
const AUD: &str = "iwmo-api";

fn run(db: &common::TestDb, args: &[&str]) -> (Option<i32>, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = common::clean_command(BIN)
        .args(args)
        .env("IWMO_DATABASE_URL", db.url())
        .env("USER", "tester")
        .env_remove("RUST_LOG")
        .output()
        .expect("run iwmo");
    (
        status.code(),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

fn codes(c: &[&str]) -> Gemeenten {
    Gemeenten::Enkel(c.iter().map(|s| s.to_string()).collect())
}

/// Adds a user through the binary; returns the token (the last line of the output).
fn toevoegen(db: &common::TestDb, args: &[&str]) -> String {
    let mut all = vec!["gebruikers", "toevoegen"];
    all.extend_from_slice(args);
    let (code, out, err) = run(db, &all);
    assert_eq!(code, Some(0), "{all:?}: {out}{err}");
    assert!(out.contains("toegevoegd"), "{out}");
    let token = out.lines().last().unwrap_or_default().to_string();
    assert!(token.starts_with("iwmo_") && token.len() == 48, "{out}");
    token
}

fn refused(r: Result<Principal, AuthError>) -> AuthError {
    match r {
        Ok(p) => panic!("accepted as {p:?}"),
        Err(e) => e,
    }
}

/// The kind (variant name) and the text of the error a token is refused with.
async fn refusal(auth: &Authenticator, token: &str) -> (String, String) {
    let e = refused(auth.authenticate(token).await);
    let kind = format!("{e:?}");
    (
        kind.split('(').next().unwrap_or_default().into(),
        e.to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_tokens_are_made_shown_once_and_revoked() {
    for db in common::backends() {
        let b = db.backend;
        let args = "--naam|Fien de Vries|--rol|financien|--gemeente|0363|--gemeente|0344";
        let token = toevoegen(&db, &args.split('|').collect::<Vec<_>>());
        let alle = toevoegen(&db, &["--naam", "a.auditor", "--rol", "Auditor"]);
        let store = Store::open(db.url()).await.unwrap();
        let auth = Authenticator::new(store.clone(), &Config::default())
            .await
            .unwrap();

        let p = auth.authenticate(&token).await.unwrap();
        assert_eq!((p.naam.as_str(), p.rol), ("Fien de Vries", Rol::Financien));
        assert_eq!(p.gemeenten, codes(&["0344", "0363"]), "{b}");
        assert!(p.mag("0344") && p.mag("0363") && !p.mag("0599"), "{b}");
        let p = auth.authenticate(&alle).await.unwrap();
        assert_eq!((p.rol, &p.gemeenten), (Rol::Auditor, &Gemeenten::Alle));
        assert!(p.mag("0599"), "{b}");

        // Unknown, empty and malformed tokens; a JWT while OpenID Connect is off.
        for (t, kind) in [
            (nieuw_token().as_str(), "OnbekendToken"),
            ("  ", "Ontbreekt"),
            ("geheim", "OnbekendToken"),
            ("a.b.c", "OidcUit"),
        ] {
            assert_eq!(refusal(&auth, t).await.0, kind, "{b}");
        }

        only_the_hash_is_stored_and_never_shown(&db, &store, &[&token, &alle]).await;
        refuses_a_second_active_name_and_bad_arguments(&db, &store).await;
        revokes(&db, &store, &auth, &token).await;
        logs_who_added_and_revoked(&db, &store, &token).await;

        // Adding and revoking are in the action log, chained: the chain verifies.
        let (code, out, err) = run(&db, &["audit", "verify"]);
        assert_eq!(code, Some(0), "{b}: {out}{err}");
        store.close().await;
    }
}

async fn only_the_hash_is_stored_and_never_shown(
    db: &common::TestDb,
    store: &Store,
    tokens: &[&str],
) {
    let b = db.backend;
    let (stored,): (String,) =
        sqlx::query_as("SELECT token_sha256 FROM gebruikers WHERE naam = 'Fien de Vries'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(stored, token_hash(tokens[0]), "{b}");
    assert_ne!(stored, tokens[0], "{b}");
    for format in ["text", "json"] {
        let (code, out, err) = run(db, &["gebruikers", "list", "--format", format]);
        assert_eq!(code, Some(0), "{b} {format}: {err}");
        assert!(
            out.contains("Fien de Vries") && out.contains("a.auditor"),
            "{b}: {out}"
        );
        for t in tokens {
            assert!(
                !out.contains(t) && !out.contains(&token_hash(t)),
                "{b} {format}: {out}"
            );
        }
        assert!(!out.contains("iwmo_"), "{b}: {out}");
    }
    let (_, out, _) = run(db, &["gebruikers", "list"]);
    assert!(
        out.contains("Fien de Vries\tfinancien\t0344,0363\taangemaakt "),
        "{b}: {out}"
    );
    assert!(out.contains("a.auditor\tauditor\talle\t"), "{b}: {out}");
}

async fn refuses_a_second_active_name_and_bad_arguments(db: &common::TestDb, store: &Store) {
    let b = db.backend;
    let (code, out, err) = run(
        db,
        &[
            "gebruikers",
            "toevoegen",
            "--naam",
            "Fien de Vries",
            "--rol",
            "auditor",
        ],
    );
    assert_eq!(code, Some(1), "{b}: {out}{err}");
    assert!(
        err.contains("er is al een actieve gebruiker met de naam 'Fien de Vries'"),
        "{b}: {err}"
    );
    assert!(
        !out.contains("iwmo_"),
        "{b}: no token for a user not made: {out}"
    );
    let e = store
        .add_user("Fien de Vries", "auditor", "*", &token_hash("x"))
        .await;
    assert!(matches!(e, Err(StoreError::Conflict(_))), "{b}: {e:?}");
    for (args, expected) in [
        ("--naam|x|--rol|admin", "--rol: onbekende rol; kies uit backoffice, financien, auditor, contractbeheer, beheerder"),
        ("--naam|x|--rol|auditor|--gemeente|344", "--gemeente: een gemeentecode is 4 cijfers"),
        ("--naam| |--rol|auditor", "--naam is leeg"),
    ] {
        let mut all = vec!["gebruikers", "toevoegen"];
        all.extend(args.split('|'));
        let (code, out, err) = run(db, &all);
        assert_eq!(code, Some(2), "{b} {all:?}: {out}{err}");
        assert!(err.contains(expected), "{b}: {err}");
    }
    let n = store.users().await.unwrap().len();
    assert_eq!(n, 2, "{b}: refused arguments add nobody");
}

async fn revokes(db: &common::TestDb, store: &Store, auth: &Authenticator, token: &str) {
    let b = db.backend;
    let (code, out, err) = run(db, &["gebruikers", "intrekken", "Fien de Vries"]);
    assert_eq!(code, Some(0), "{b}: {out}{err}");
    assert_eq!(refusal(auth, token).await.0, "OnbekendToken", "{b}");
    assert_eq!(
        store.user_by_token(&token_hash(token)).await.unwrap(),
        None,
        "{b}"
    );
    for naam in ["Fien de Vries", "niemand"] {
        let (code, _, err) = run(db, &["gebruikers", "intrekken", naam]);
        assert_eq!(code, Some(1), "{b}");
        assert!(
            err.contains(&format!("geen actieve gebruiker met de naam '{naam}'")),
            "{b}: {err}"
        );
    }
    let (_, out, _) = run(db, &["gebruikers", "list"]);
    assert!(
        out.contains("0344,0363\taangemaakt ") && out.contains("\tingetrokken 20"),
        "{b}: {out}"
    );

    // The name may be given out again, with a new token; the old one stays refused.
    let nieuw = toevoegen(
        db,
        &[
            "--naam",
            "Fien de Vries",
            "--rol",
            "backoffice",
            "--gemeente",
            "0599",
        ],
    );
    let p = auth.authenticate(&nieuw).await.unwrap();
    assert_eq!(
        (p.rol, p.gemeenten),
        (Rol::Backoffice, codes(&["0599"])),
        "{b}"
    );
    assert!(auth.authenticate(token).await.is_err(), "{b}");
}

async fn logs_who_added_and_revoked(db: &common::TestDb, store: &Store, token: &str) {
    let b = db.backend;
    let log = store.actions_on("gebruiker/Fien de Vries").await.unwrap();
    let acties: Vec<&str> = log.iter().map(|a| a.actie.as_str()).collect();
    assert_eq!(
        acties,
        [
            "gebruiker.toevoegen",
            "gebruiker.intrekken",
            "gebruiker.toevoegen"
        ],
        "{b}"
    );
    for a in &log {
        let who = (a.gebruiker.as_str(), a.rol.as_str());
        assert_eq!(who, ("beheer (opdrachtregel) tester", "beheerder"), "{b}");
        assert!(
            !a.details.contains("iwmo_") && !a.details.contains(&token_hash(token)),
            "{b}: {}",
            a.details
        );
    }
    assert!(
        log[0].details.contains("0344,0363") && log[0].details.contains("financien"),
        "{b}: {}",
        log[0].details
    );
}

// ---------------------------------------------------------------------------------------------
// OpenID Connect

/// A signing key of the identity provider, with its public JWK.
struct Signer {
    kid: String,
    alg: Algorithm,
    key: EncodingKey,
    public: Vec<u8>,
    jwk: Value,
}

impl Signer {
    fn ed(kid: &str) -> Signer {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let public = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
            .unwrap()
            .public_key()
            .as_ref()
            .to_vec();
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": b64(&public), "kid": kid, "alg": "EdDSA", "use": "sig"});
        Signer {
            kid: kid.into(),
            alg: Algorithm::EdDSA,
            key: EncodingKey::from_ed_der(pkcs8.as_ref()),
            public,
            jwk,
        }
    }

    /// ES256 on P-256; its JWK names no algorithm (the curve implies it).
    fn es(kid: &str) -> Signer {
        let rng = ring::rand::SystemRandom::new();
        let alg = &ECDSA_P256_SHA256_FIXED_SIGNING;
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
        let public = EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng)
            .unwrap()
            .public_key()
            .as_ref()
            .to_vec();
        assert_eq!(public.len(), 65);
        let jwk = json!({"kty": "EC", "crv": "P-256", "x": b64(&public[1..33]), "y": b64(&public[33..]), "kid": kid});
        Signer {
            kid: kid.into(),
            alg: Algorithm::ES256,
            key: EncodingKey::from_ec_der(pkcs8.as_ref()),
            public,
            jwk,
        }
    }

    /// The same key id, another key.
    fn impostor(&self) -> Signer {
        let mut s = match self.alg {
            Algorithm::EdDSA => Signer::ed(&self.kid),
            _ => Signer::es(&self.kid),
        };
        s.jwk = self.jwk.clone();
        s
    }

    fn sign(&self, claims: &Value) -> String {
        let mut h = Header::new(self.alg);
        h.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&h, claims, &self.key).unwrap()
    }
}

fn jwks(signers: &[&Signer]) -> Value {
    json!({ "keys": signers.iter().map(|s| s.jwk.clone()).collect::<Vec<_>>() })
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims() -> Value {
    json!({
        "iss": ISS, "aud": AUD, "iat": now(), "exp": now() + 300, "sub": "f3a1-77",
        "preferred_username": "j.jansen", "iwmo_rol": "financien", "iwmo_gemeenten": ["0363", "0344"]
    })
}

fn with(mut c: Value, key: &str, v: Value) -> Value {
    c[key] = v;
    c
}

fn without(mut c: Value, key: &str) -> Value {
    c.as_object_mut().unwrap().remove(key);
    c
}

fn oidc_config() -> Config {
    Config {
        oidc_issuer: Some(ISS.into()),
        oidc_audience: Some(AUD.into()),
        ..Config::default()
    }
}

async fn sqlite_store(db: &common::TestDb) -> Store {
    Store::open(db.url()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_tokens_from_a_jwks_file() {
    let db = common::TestDb::sqlite();
    let (ed, es) = (Signer::ed("ed-1"), Signer::es("es-1"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jwks.json");
    std::fs::write(&file, jwks(&[&ed, &es]).to_string()).unwrap();
    let config = Config {
        oidc_jwks_file: Some(file),
        ..oidc_config()
    };
    let auth = Authenticator::new(sqlite_store(&db).await, &config)
        .await
        .unwrap();

    let p = auth.authenticate(&ed.sign(&claims())).await.unwrap();
    assert_eq!((p.naam.as_str(), p.rol), ("j.jansen", Rol::Financien));
    assert_eq!(p.gemeenten, codes(&["0344", "0363"]));
    assert!(p.mag("0363") && !p.mag("0518"));

    // ES256, roles as a list among the provider's own, all gemeenten, the name from `sub`.
    let c = with(
        with(
            without(claims(), "preferred_username"),
            "iwmo_rol",
            json!(["offline_access", "auditor"]),
        ),
        "iwmo_gemeenten",
        json!("*"),
    );
    let p = auth.authenticate(&es.sign(&c)).await.unwrap();
    assert_eq!(
        (p.naam.as_str(), p.rol, p.gemeenten),
        ("f3a1-77", Rol::Auditor, Gemeenten::Alle)
    );

    refusals(&auth, &ed, &es).await;
    claim_refusals(&auth, &ed).await;
    algorithm_tricks(&auth, &ed).await;
}

/// Each way a token is refused, with its own error.
async fn refusals(auth: &Authenticator, ed: &Signer, es: &Signer) {
    let t = |c: Value| ed.sign(&c);
    let cases = [
        (
            t(with(claims(), "exp", json!(now() - 600))),
            "Verlopen",
            "JWT verlopen",
        ),
        (
            t(with(claims(), "nbf", json!(now() + 600))),
            "NogNietGeldig",
            "nog niet geldig",
        ),
        (
            t(with(claims(), "iss", json!("https://evil.example"))),
            "VerkeerdeIssuer",
            "verkeerde issuer",
        ),
        (
            t(without(claims(), "iss")),
            "VerkeerdeIssuer",
            "verkeerde issuer",
        ),
        (
            t(with(claims(), "aud", json!("other-app"))),
            "VerkeerdeAudience",
            "verkeerde audience",
        ),
        (
            t(without(claims(), "aud")),
            "VerkeerdeAudience",
            "verkeerde audience",
        ),
        (t(without(claims(), "exp")), "Onleesbaar", "exp ontbreekt"),
        (
            ed.impostor().sign(&claims()),
            "OngeldigeHandtekening",
            "ongeldige handtekening",
        ),
        (
            es.impostor().sign(&claims()),
            "OngeldigeHandtekening",
            "ongeldige handtekening",
        ),
        (
            Signer::ed("onbekend").sign(&claims()),
            "OnbekendeSleutel",
            "onbekende sleutel",
        ),
    ];
    for (token, kind, text) in cases {
        let (k, shown) = refusal(auth, &token).await;
        assert_eq!(k, kind, "{shown}");
        assert!(shown.contains(text), "{shown}");
    }
}

/// A role missing, unknown or twice; gemeenten missing or wrong; no name at all.
async fn claim_refusals(auth: &Authenticator, ed: &Signer) {
    let t = |c: Value| ed.sign(&c);
    let cases = [
        (
            t(without(claims(), "iwmo_rol")),
            "Rol",
            "claim iwmo_rol ontbreekt",
        ),
        (
            t(with(claims(), "iwmo_rol", json!("admin"))),
            "Rol",
            "noemt geen iwmo-rol",
        ),
        (
            t(with(claims(), "iwmo_rol", json!(["auditor", "financien"]))),
            "Rol",
            "meer dan één iwmo-rol",
        ),
        (
            t(without(claims(), "iwmo_gemeenten")),
            "Gemeenten",
            "claim iwmo_gemeenten ontbreekt",
        ),
        (
            t(with(claims(), "iwmo_gemeenten", json!(["0344", "12"]))),
            "Gemeenten",
            "4 cijfers",
        ),
        (
            t(without(without(claims(), "preferred_username"), "sub")),
            "NaamOntbreekt",
            "naam ontbreekt",
        ),
    ];
    for (token, kind, text) in cases {
        let e = refused(auth.authenticate(&token).await);
        assert!(!e.is_outage(), "{e}");
        let (k, shown) = refusal(auth, &token).await;
        assert_eq!(k, kind, "{shown}");
        assert!(shown.contains(text), "{shown}");
    }
}

/// `alg: none`, HS256 with the public key as its secret, and an algorithm the named key is not for.
async fn algorithm_tricks(auth: &Authenticator, ed: &Signer) {
    let payload = b64(claims().to_string().as_bytes());
    let none = format!(
        "{}.{payload}.",
        b64(json!({"alg": "none", "kid": ed.kid}).to_string().as_bytes())
    );
    let e = refused(auth.authenticate(&none).await);
    assert!(
        matches!(&e, AuthError::Algoritme(m) if m.contains("none")),
        "{e:?}"
    );
    for secret in [
        ed.public.clone(),
        ed.jwk.to_string().into_bytes(),
        b64(&ed.public).into_bytes(),
    ] {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some(ed.kid.clone());
        let hs = jsonwebtoken::encode(&h, &claims(), &EncodingKey::from_secret(&secret)).unwrap();
        let e = refused(auth.authenticate(&hs).await);
        assert!(
            matches!(&e, AuthError::Algoritme(m) if m.contains("HS256")),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "JWT geweigerd: algoritme HS256 niet toegestaan (alleen RS256, ES256 of EdDSA)"
        );
    }
    // ES256 in the header, the Ed25519 key's id.
    let es = Signer {
        kid: ed.kid.clone(),
        ..Signer::es("x")
    };
    let e = refused(auth.authenticate(&es.sign(&claims())).await);
    assert!(
        matches!(&e, AuthError::Algoritme(m) if m.contains("past niet")),
        "{e:?}"
    );
    let e = refused(auth.authenticate("eyJ.eyJ.sig").await);
    assert!(matches!(e, AuthError::Onleesbaar(_)), "{e:?}");
}

/// A JWKS served over HTTP, counting how often it is fetched.
struct JwksServer {
    url: String,
    keys: Arc<Mutex<Value>>,
    status: Arc<Mutex<u16>>,
    hits: Arc<AtomicUsize>,
}

async fn serve_jwks(initial: Value) -> JwksServer {
    use axum::extract::State;
    type Shared = (Arc<Mutex<Value>>, Arc<Mutex<u16>>, Arc<AtomicUsize>);
    let keys = Arc::new(Mutex::new(initial));
    let status = Arc::new(Mutex::new(200u16));
    let hits = Arc::new(AtomicUsize::new(0));
    async fn handler(
        State((keys, status, hits)): State<Shared>,
    ) -> (axum::http::StatusCode, String) {
        hits.fetch_add(1, Ordering::SeqCst);
        let code = axum::http::StatusCode::from_u16(*status.lock().unwrap()).unwrap();
        (code, keys.lock().unwrap().to_string())
    }
    let app = axum::Router::new()
        .route("/realms/iwmo/certs", axum::routing::get(handler))
        .with_state((keys.clone(), status.clone(), hits.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    JwksServer {
        url: format!("http://127.0.0.1:{port}/realms/iwmo/certs"),
        keys,
        status,
        hits,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_keys_from_a_url_rotate_and_refetch_at_most_once_a_minute() {
    let db = common::TestDb::sqlite();
    let (a, b, c) = (
        Signer::ed("2024-a"),
        Signer::es("2025-b"),
        Signer::ed("2025-c"),
    );
    let server = serve_jwks(jwks(&[&a])).await;
    let config = Config {
        oidc_jwks_url: Some(server.url.clone()),
        ..oidc_config()
    };
    let auth = Authenticator::new(sqlite_store(&db).await, &config)
        .await
        .unwrap();
    assert_eq!(server.hits.load(Ordering::SeqCst), 1, "fetched at start");

    let c_claims = with(claims(), "iwmo_rol", json!("contractbeheer"));
    let p = auth.authenticate(&a.sign(&c_claims)).await.unwrap();
    assert_eq!((p.naam.as_str(), p.rol), ("j.jansen", Rol::Contractbeheer));
    assert_eq!(p.gemeenten, codes(&["0344", "0363"]));
    auth.authenticate(&a.sign(&claims())).await.unwrap();
    assert_eq!(
        server.hits.load(Ordering::SeqCst),
        1,
        "known keys come from the cache"
    );

    // The provider rotates: a token with the new key id makes iwmo fetch the set again.
    *server.keys.lock().unwrap() = jwks(&[&a, &b]);
    let p = auth.authenticate(&b.sign(&claims())).await.unwrap();
    assert_eq!(p.rol, Rol::Financien);
    assert_eq!(
        server.hits.load(Ordering::SeqCst),
        2,
        "one refetch for the new kid"
    );
    auth.authenticate(&b.sign(&claims())).await.unwrap();
    auth.authenticate(&a.sign(&claims())).await.unwrap();
    assert_eq!(server.hits.load(Ordering::SeqCst), 2);

    // Another new key within the minute: not fetched again (an unknown kid cannot make iwmo
    // hammer the provider), refused as unknown.
    *server.keys.lock().unwrap() = jwks(&[&a, &b, &c]);
    for _ in 0..3 {
        let e = refused(auth.authenticate(&c.sign(&claims())).await);
        assert!(matches!(e, AuthError::OnbekendeSleutel), "{e:?}");
    }
    assert_eq!(
        server.hits.load(Ordering::SeqCst),
        2,
        "at most one refetch per minute"
    );
    assert!(auth.authenticate(&a.sign(&claims())).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_jwks_is_an_outage_not_the_callers_fault() {
    let db = common::TestDb::sqlite();
    let a = Signer::ed("k1");
    // Nobody listens: iwmo starts anyway and tries again when a token comes.
    let url = format!("http://127.0.0.1:{}/certs", common::free_port());
    let config = Config {
        oidc_jwks_url: Some(url),
        ..oidc_config()
    };
    let auth = Authenticator::new(sqlite_store(&db).await, &config)
        .await
        .unwrap();
    let e = refused(auth.authenticate(&a.sign(&claims())).await);
    assert!(
        matches!(e, AuthError::JwksOnbereikbaar(_)) && e.is_outage(),
        "{e:?}"
    );
    assert!(e.to_string().starts_with("JWKS onbereikbaar: "), "{e}");

    // A provider answering 503 at start, then coming back: the keys are fetched on demand.
    let server = serve_jwks(jwks(&[&a])).await;
    *server.status.lock().unwrap() = 503;
    let config = Config {
        oidc_jwks_url: Some(server.url.clone()),
        ..oidc_config()
    };
    let auth = Authenticator::new(sqlite_store(&db).await, &config)
        .await
        .unwrap();
    *server.status.lock().unwrap() = 200;
    let p = auth.authenticate(&a.sign(&claims())).await.unwrap();
    assert_eq!(p.naam, "j.jansen");
    assert_eq!(server.hits.load(Ordering::SeqCst), 2);
    assert!(!AuthError::Verlopen.is_outage());
}

#[tokio::test]
async fn settings_that_cannot_work_are_refused_at_start() {
    let db = common::TestDb::sqlite();
    let store = sqlite_store(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("leeg.json");
    std::fs::write(
        &empty,
        r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0", "alg": "HS256"}]}"#,
    )
    .unwrap();
    let cases = [
        (
            Config {
                oidc_jwks_file: Some(dir.path().join("ontbreekt.json")),
                ..oidc_config()
            },
            "niet te lezen",
        ),
        (
            Config {
                oidc_jwks_file: Some(empty),
                ..oidc_config()
            },
            "geen bruikbare sleutel",
        ),
        (oidc_config(), "oidc_jwks_url en oidc_jwks_file ontbreken"),
        (
            Config {
                oidc_audience: None,
                oidc_jwks_url: Some("https://idp/certs".into()),
                ..oidc_config()
            },
            "oidc_audience ontbreekt",
        ),
    ];
    for (config, expected) in cases {
        match Authenticator::new(store.clone(), &config).await {
            Err(e) => assert!(e.contains(expected), "{e}"),
            Ok(_) => panic!("accepted; expected {expected}"),
        }
    }
}

#[test]
fn the_authenticator_can_be_shared_between_requests() {
    fn shared<T: Send + Sync + 'static>() {}
    shared::<Authenticator>();
    fn send<F: std::future::Future + Send>(_: F) {}
    let _ = |a: &'static Authenticator| send(a.authenticate("x"));
}
