//! The HTTP API (version 1, JSON) and the stream.
//!
//! | method and path | who | what |
//! |---|---|---|
//! | `GET /v1/health` | anyone | liveness: the session's state and clock |
//! | `GET /v1/floor` | viewer | the plan, lanes, queues, devices, SKUs (fixed for the session) |
//! | `GET /v1/state` | viewer | the latest frame (`?heat=1` adds the dwell map) |
//! | `GET /v1/kpis` | viewer | the headline figures, the queues, the drift from the sensors |
//! | `GET /v1/log` | viewer | the session log so far (a download) |
//! | `GET /v1/stream` | viewer | WebSocket of frames (`?hz=10`, `?heat=1`) |
//! | `POST /v1/interventions` | operator | `{"interventions": [ACTION, ...]}` |
//! | `POST /v1/control` | operator | `{"pause": true}`, `{"pause": false}`, `{"speed": 120}` |
//! | `POST /v1/readings` | operator | `{"readings": [READING, ...]}` (see `ingest`) |
//! | `POST /v1/forecast` | operator | a what-if (see `forecast`) |
//! | `GET /metrics` | viewer | Prometheus text format |
//! | `GET /` | anyone | the browser view (it asks for a token to read the API) |
//!
//! Errors are JSON: `{"error": "...", "field": "..."}` with the status: 400 malformed, 401
//! no or wrong token, 403 a viewer's token where an operator's is needed, 404, 409 the
//! session has ended, 413 too large, 422 a field is wrong, 503 the input queue is full.

use std::sync::Arc;
use std::time::Duration;

use actix::Addr;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};

use crate::actions::{Action, FieldError, resolve_all};
use crate::auth::{Role, Tokens, presented};
use crate::control::{Cmd, ControlPlane, Done};
use crate::forecast;
use crate::ingest::{RawReading, Rejected, Transport};
use crate::session::Session;
use crate::telemetry;

/// Most bytes of a request body (a batch of readings is the largest).
pub const MAX_BODY: usize = 4 << 20;

/// An error answer.
#[derive(Debug, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    pub error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every refused reading (an answer lists the first [`REJECTED_SHOWN`]).
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "first_rejected")]
    pub rejected: Vec<Rejected>,
}

/// Most refused readings an answer lists.
pub const REJECTED_SHOWN: usize = 50;

fn first_rejected<S: serde::Serializer>(rejected: &[Rejected], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(rejected.iter().take(REJECTED_SHOWN))
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{} ({field}): {}", self.status, self.error),
            None => write!(f, "{}: {}", self.status, self.error),
        }
    }
}

impl ApiError {
    pub fn new(status: StatusCode, error: impl Into<String>) -> ApiError {
        ApiError { status, error: error.into(), field: None, rejected: vec![] }
    }
    pub fn field(e: FieldError) -> ApiError {
        ApiError { field: Some(e.field), ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.message) }
    }
    pub fn bad_json(e: &serde_json::Error) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("malformed JSON at line {}, column {}: {e}", e.line(), e.column()),
        )
    }
    pub fn conflict(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, m)
    }
    pub fn busy(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, m)
    }
    pub fn too_large(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, m)
    }
    pub fn rejected(rejected: Vec<Rejected>) -> ApiError {
        let first = &rejected[0];
        let error = format!(
            "{} reading(s) refused, none taken; the first, readings[{}].{}: {}",
            rejected.len(),
            first.index,
            first.field,
            first.error
        );
        ApiError {
            field: Some(format!("readings[{}].{}", first.index, first.field)),
            rejected,
            ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, error)
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }
    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(self)
    }
}

/// What the handlers share.
pub struct AppState {
    pub session: Arc<Session>,
    pub control: Addr<ControlPlane>,
    pub tokens: Tokens,
    pub forecast_threads: usize,
}

type State = web::Data<AppState>;

/// The caller's role, at least `need`.
fn allow(req: &HttpRequest, state: &AppState, need: Role) -> Result<Role, ApiError> {
    allow_by(req, &state.tokens, need)
}

/// The caller's role under `tokens`, at least `need`.
pub(crate) fn allow_by(req: &HttpRequest, tokens: &Tokens, need: Role) -> Result<Role, ApiError> {
    let token = presented(req);
    match tokens.role_of(token.as_deref()) {
        None if token.is_none() => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "a token is needed: send `Authorization: Bearer TOKEN` (a WebSocket may send the subprotocol bearer.TOKEN)",
        )),
        None => Err(ApiError::new(StatusCode::UNAUTHORIZED, "the token is not valid")),
        Some(role) if role < need => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("this needs an {} token; yours is a {} token", need.name(), role.name()),
        )),
        Some(role) => Ok(role),
    }
}

/// Reads a JSON body of at most `MAX_BODY` bytes.
pub(crate) async fn json<T: serde::de::DeserializeOwned>(mut payload: web::Payload) -> Result<T, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("cannot read the body: {e}")))?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(ApiError::too_large(format!("the body is larger than {} MiB", MAX_BODY >> 20)));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|e| {
        if e.is_data() {
            let message = e.to_string();
            let field = message.split('`').nth(1).map(str::to_owned);
            ApiError {
                field,
                ..ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("at line {}, column {}: {message}", e.line(), e.column()),
                )
            }
        } else {
            ApiError::bad_json(&e)
        }
    })
}

async fn command(state: &AppState, cmd: Cmd) -> Result<Done, ApiError> {
    state
        .control
        .send(cmd)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("the control plane is gone: {e}")))?
}

async fn health(state: State) -> HttpResponse {
    let frame = state.session.frame();
    HttpResponse::Ok().json(serde_json::json!({
        "status": "ok",
        "session": if frame.wire.status.done { "ended" } else if frame.wire.status.paused { "paused" } else { "running" },
        "clock": frame.wire.clock,
        "sim_time_s": frame.wire.at_ns as f64 / 1e9,
    }))
}

async fn floor(req: HttpRequest, state: State) -> Result<HttpResponse, ApiError> {
    allow(&req, &state, Role::Viewer)?;
    Ok(HttpResponse::Ok().json(&*state.session.floor))
}

#[derive(Deserialize)]
struct StateQuery {
    #[serde(default)]
    heat: u8,
}

async fn current(req: HttpRequest, state: State, query: web::Query<StateQuery>) -> Result<HttpResponse, ApiError> {
    allow(&req, &state, Role::Viewer)?;
    let frame = state.session.frame();
    if query.heat != 0 {
        return Ok(HttpResponse::Ok().json(&frame.wire));
    }
    Ok(HttpResponse::Ok().content_type("application/json").body(frame.json.as_bytes().clone()))
}

async fn kpis(req: HttpRequest, state: State) -> Result<HttpResponse, ApiError> {
    allow(&req, &state, Role::Viewer)?;
    let frame = state.session.frame();
    let w = &frame.wire;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "version": w.version,
        "clock": w.clock,
        "status": w.status,
        "kpis": w.kpis,
        "queues": w.queues,
        "lanes": w.lanes,
        "devices": w.devices,
        "drift": w.drift,
    })))
}

async fn log(req: HttpRequest, state: State) -> Result<HttpResponse, ApiError> {
    allow(&req, &state, Role::Viewer)?;
    download(state.session.journal.clone()).await
}

/// The session log at `path`, as a download.
pub(crate) async fn download(path: std::path::PathBuf) -> Result<HttpResponse, ApiError> {
    let bytes = web::block(move || std::fs::read(path))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("cannot read the session log: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"session.log\""))
        .body(bytes))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Interventions {
    interventions: Vec<Action>,
}

async fn interventions(req: HttpRequest, state: State, body: web::Payload) -> Result<HttpResponse, ApiError> {
    allow(&req, &state, Role::Operator)?;
    let body: Interventions = json(body).await?;
    if body.interventions.is_empty() || body.interventions.len() > 100 {
        return Err(ApiError::field(FieldError::new("interventions", "expected 1 to 100 actions")));
    }
    let list = resolve_all(&body.interventions, &state.session.spec, "interventions").map_err(ApiError::field)?;
    match command(&state, Cmd::Intervene(list)).await? {
        Done::Sent { at_ns, inputs } => Ok(HttpResponse::Accepted().json(serde_json::json!({
            "accepted": inputs,
            "at": storetwin_actors::store::wire::clock(state.session.spec.open_at_s, storetwin_engine::SimTime::from_nanos(at_ns)),
            "interventions": body.interventions,
        }))),
        Done::Readings(_) => Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the control plane answered readings")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Control {
    #[serde(default)]
    pub pause: Option<bool>,
    #[serde(default)]
    pub speed: Option<f64>,
}

impl Control {
    /// Refuses a body that asks nothing or a speed that is not one.
    pub(crate) fn check(&self) -> Result<(), ApiError> {
        if self.pause.is_none() && self.speed.is_none() {
            return Err(ApiError::field(FieldError::new("pause", "expected `pause` (true or false) and/or `speed`")));
        }
        if let Some(speed) = self.speed
            && !(speed.is_finite() && speed > 0.0 && speed <= 1e6)
        {
            return Err(ApiError::field(FieldError::new(
                "speed",
                format!("{speed} is not a speed (sim seconds per wall second, 0 < speed <= 1000000)"),
            )));
        }
        Ok(())
    }
}

async fn control(req: HttpRequest, state: State, body: web::Payload) -> Result<HttpResponse, ApiError> {
    allow(&req, &state, Role::Operator)?;
    let body: Control = json(body).await?;
    body.check()?;
    if let Some(speed) = body.speed {
        command(&state, Cmd::Speed(speed)).await?;
    }
    match body.pause {
        Some(true) => drop(command(&state, Cmd::Pause).await?),
        Some(false) => drop(command(&state, Cmd::Resume).await?),
        None => {}
    }
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "pause": body.pause, "speed": body.speed })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Readings {
    readings: Vec<RawReading>,
}

async fn readings(req: HttpRequest, state: State, body: web::Payload) -> Result<HttpResponse, ApiError> {
    allow(&req, &state, Role::Operator)?;
    let body: Readings = match json(body).await {
        Ok(b) => b,
        Err(e) => {
            metrics::counter!(telemetry::REJECTED, "reason" => "malformed", "via" => "http").increment(1);
            return Err(e);
        }
    };
    match command(&state, Cmd::Readings(body.readings, Transport::Http)).await? {
        Done::Readings(report) => Ok(HttpResponse::Accepted().json(report)),
        Done::Sent { .. } => Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the control plane answered inputs")),
    }
}

async fn forecast(req: HttpRequest, state: State, body: web::Payload) -> Result<HttpResponse, ApiError> {
    allow(&req, &state, Role::Operator)?;
    let request: forecast::Request = json(body).await?;
    let session = state.session.clone();
    let plan = request.check(&session.spec, session.seed).map_err(ApiError::field)?;
    let threads = state.forecast_threads;
    let answer = web::block(move || {
        let fork = session
            .fork(Duration::from_secs(10))
            .ok_or_else(|| ApiError::conflict("the session has ended; there is no live state to forecast from"))?;
        forecast::forecast(&fork, &session.spec, &plan, threads).map_err(|e| ApiError::conflict(e.to_string()))
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
    metrics::counter!(telemetry::FORECASTS).increment(1);
    metrics::histogram!(telemetry::FORECAST_SECONDS).record(answer.wall_s);
    Ok(HttpResponse::Ok().json(answer))
}

async fn prometheus(req: HttpRequest, state: State) -> Result<HttpResponse, ApiError> {
    allow(&req, &state, Role::Viewer)?;
    Ok(metrics_text())
}

/// The Prometheus text of every metric.
pub(crate) fn metrics_text() -> HttpResponse {
    let text = telemetry::handle().render();
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(text)
}

pub(crate) async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .body(crate::page::PAGE)
}

#[derive(Deserialize)]
pub(crate) struct StreamQuery {
    #[serde(default = "default_hz")]
    pub hz: f64,
    #[serde(default)]
    pub heat: u8,
}

impl StreamQuery {
    /// The time between two frames the client asked for.
    pub(crate) fn every(&self) -> Result<Duration, ApiError> {
        if !(self.hz.is_finite() && self.hz > 0.0 && self.hz <= 60.0) {
            return Err(ApiError::field(FieldError::new("hz", format!("{} is not a rate (0 < hz <= 60)", self.hz))));
        }
        Ok(Duration::from_secs_f64(1.0 / self.hz))
    }
}

fn default_hz() -> f64 {
    10.0
}

/// The subprotocol the stream speaks.
pub const PROTOCOL: &str = "storetwin.v1";

async fn stream(
    req: HttpRequest,
    state: State,
    body: web::Payload,
    query: web::Query<StreamQuery>,
) -> Result<HttpResponse, actix_web::Error> {
    allow(&req, &state, Role::Viewer)?;
    let every = query.every()?;
    let (response, ws, messages) = actix_ws::handle_with_protocols(&req, body, &[PROTOCOL])?;
    let heat = query.heat != 0;
    let session = state.session.clone();
    actix_web::rt::spawn(crate::stream::serve_client(session, ws, messages, every, heat));
    Ok(response)
}

/// The routes, for `App::configure`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(page))
        .route("/v1/health", web::get().to(health))
        .route("/v1/floor", web::get().to(floor))
        .route("/v1/state", web::get().to(current))
        .route("/v1/kpis", web::get().to(kpis))
        .route("/v1/log", web::get().to(log))
        .route("/v1/stream", web::get().to(stream))
        .route("/v1/interventions", web::post().to(interventions))
        .route("/v1/control", web::post().to(control))
        .route("/v1/readings", web::post().to(readings))
        .route("/v1/forecast", web::post().to(forecast))
        .route("/metrics", web::get().to(prometheus));
}
