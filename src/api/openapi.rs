//! The OpenAPI 3 document, generated from the handlers' annotations (utoipa), served at
//! `/api/v1/openapi.json`.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{afstemming, betaalrondes, partijen, problem, view};

#[derive(OpenApi)]
#[openapi(
    info(title = "iwmo API", version = "1.0.0",
        description = "Betaalrondes, aanbieders, gemeenten en afstemming van iwmo (iWmo 3.2). \
                       Volgt de NLGov REST API Design Rules 2.0; fouten als application/problem+json.",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2")),
    servers((url = "/", description = "deze server")),
    paths(
        betaalrondes::create, betaalrondes::list, betaalrondes::one, betaalrondes::lines,
        betaalrondes::approve, betaalrondes::sepa, betaalrondes::journal, betaalrondes::paid,
        betaalrondes::withdraw,
        partijen::list_aanbieders, partijen::import_aanbieders,
        partijen::list_gemeenten, partijen::import_gemeenten,
        afstemming::reconcile,
    ),
    components(schemas(problem::Problem, problem::FoutRegel, view::RondeView, view::RondePagina,
        view::RegelPagina, view::VastgehoudenView, betaalrondes::NieuweRondeBody,
        betaalrondes::IntrekkingBody)),
    modifiers(&Bearer),
    security(("bearer" = [])),
    tags((name = "betaalrondes", description = "Betaalrondes: aanmaken, fiatteren (vier ogen), SEPA, journaal, betaald, intrekken"),
         (name = "partijen", description = "Aanbieders en gemeenten met hun rekening"),
         (name = "afstemming", description = "Afstemming per aanbieder en maand"))
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let c = api.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `GET /api/v1/openapi.json` (no authentication: the contract is public).
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
