//! The HTTP side of the console: the embedded page, the JSON API the page
//! calls, and server-sent events that push the object list after each
//! change the source sees. Every request passes [`Guard`]'s checks first.
//!
//! API (all under `/api/`, all needing the session cookie):
//! - `GET session`: read-only or not, the source, the CSRF token;
//! - `GET objects`: every object now; `GET watch`: the same list as an
//!   `objects` event at once and after every change;
//! - `GET objects/{ns}/{name}/events`: the object's Events;
//! - `PUT objects/{ns}/{name}`: new rules (spec-shape JSON), validated by
//!   the engine for the object's dialect, then saved by the source.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use bucketcors_engine::format::{self, Format};
use tokio::sync::watch;

use super::Args;
use super::assets;
use super::auth::{COOKIE, Guard};
use super::source_cluster::ClusterSource;
use super::source_dir::DirSource;
use super::view::ObjectView;

/// Where the objects come from.
#[derive(Clone)]
enum Source {
    Dir(DirSource),
    Cluster(ClusterSource),
}

#[derive(Clone)]
struct AppState {
    guard: Arc<Guard>,
    source: Source,
    objects: watch::Receiver<Arc<Vec<ObjectView>>>,
    read_only: bool,
    describe: String,
}

/// Binds, prints the start URL and serves until interrupted.
pub async fn serve(args: &Args) -> Result<(), String> {
    let (source, initial) = match &args.dir {
        Some(dir) => {
            let source = DirSource::new(dir)?;
            let initial = source.read();
            (Source::Dir(source), initial)
        }
        None => {
            let source = ClusterSource::connect(args.context.as_deref(), &args.namespaces).await?;
            let initial = source.read().await?;
            (Source::Cluster(source), initial)
        }
    };
    let (tx, rx) = watch::channel(Arc::new(initial));
    let describe = match &source {
        Source::Dir(s) => s.describe(),
        Source::Cluster(s) => s.describe(),
    };
    match source.clone() {
        Source::Dir(s) => tokio::spawn(s.watch(tx)),
        Source::Cluster(s) => tokio::spawn(s.watch(tx)),
    };

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the address bound: {e}"))?;
    let guard =
        Guard::new(addr, args.read_only).map_err(|e| format!("cannot draw a random token: {e}"))?;
    let url = format!("http://{addr}/?token={}", guard.token());
    let state = AppState {
        guard: Arc::new(guard),
        source,
        objects: rx,
        read_only: args.read_only,
        describe,
    };
    let app = Router::new()
        .route("/", get(index))
        .route("/{file}", get(asset))
        .route("/api/session", get(session))
        .route("/api/objects", get(objects))
        .route("/api/watch", get(watch_objects))
        .route("/api/objects/{ns}/{name}/events", get(events))
        .route("/api/objects/{ns}/{name}", axum::routing::put(save))
        .layer(middleware::from_fn_with_state(state.clone(), checks))
        .with_state(state);

    // The URL holds the token: standard output only, never the logs.
    println!("bucketcors console: {url}");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    tracing::info!(%addr, read_only = args.read_only, "console serving");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| format!("serving failed: {e}"))
}

/// Host check for every request; session and write checks for `/api/`;
/// security headers on every response.
async fn checks(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let verdict = state.guard.check_host(request.headers()).and_then(|()| {
        if request.uri().path().starts_with("/api/") {
            state.guard.check_api(request.method(), request.headers())
        } else {
            Ok(())
        }
    });
    let mut response = match verdict {
        Ok(()) => next.run(request).await,
        Err(refused) => {
            tracing::warn!(path = %request.uri().path(), method = %request.method(), reason = %refused, "request refused");
            (refused.status(), refused.to_string()).into_response()
        }
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
             connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; \
             frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[derive(serde::Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// The page; with `?token=` the session cookie and a redirect to a URL
/// without the token.
async fn index(State(state): State<AppState>, Query(q): Query<TokenQuery>) -> Response {
    if let Some(token) = q.token {
        if !state.guard.is_token(&token) {
            return (
                StatusCode::UNAUTHORIZED,
                "wrong token: open the URL the console printed",
            )
                .into_response();
        }
        let cookie = format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/");
        return Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, "/")
            .header(header::SET_COOKIE, cookie)
            .body(Body::empty())
            .unwrap_or_default();
    }
    asset(Path("index.html".to_owned())).await
}

async fn asset(Path(file): Path<String>) -> Response {
    if file == "favicon.ico" {
        // No icon: an empty answer keeps the browser's console free of 404s.
        return StatusCode::NO_CONTENT.into_response();
    }
    match assets::get(&format!("/{file}")) {
        Some(a) => ([(header::CONTENT_TYPE, a.content_type)], a.body).into_response(),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

async fn session(State(state): State<AppState>) -> Response {
    Json(serde_json::json!({
        "readOnly": state.read_only,
        "source": match state.source { Source::Dir(_) => "dir", Source::Cluster(_) => "cluster" },
        "where": state.describe,
        "csrf": state.guard.token(),
    }))
    .into_response()
}

async fn objects(State(state): State<AppState>) -> Response {
    let list = state.objects.borrow().clone();
    Json(&*list).into_response()
}

async fn watch_objects(
    State(state): State<AppState>,
) -> Sse<impl futures::Stream<Item = Result<Event, Infallible>>> {
    let mut rx = state.objects.clone();
    rx.mark_changed();
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.changed().await.ok()?;
        let list = rx.borrow_and_update().clone();
        let event = Event::default()
            .event("objects")
            .data(serde_json::to_string(&*list).unwrap_or_default());
        Some((Ok(event), rx))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

async fn events(
    State(state): State<AppState>,
    Path((ns, name)): Path<(String, String)>,
) -> Response {
    match &state.source {
        Source::Dir(_) => Json(Vec::<()>::new()).into_response(),
        Source::Cluster(c) => match c.events(&ns, &name).await {
            Ok(list) => Json(list).into_response(),
            Err(e) => (StatusCode::BAD_GATEWAY, e).into_response(),
        },
    }
}

async fn save(
    State(state): State<AppState>,
    Path((ns, name)): Path<(String, String)>,
    body: String,
) -> Response {
    let Some(current) = state
        .objects
        .borrow()
        .iter()
        .find(|o| o.namespace == ns && o.name == name)
        .cloned()
    else {
        return (StatusCode::NOT_FOUND, format!("{ns}/{name} is not listed")).into_response();
    };
    let config = match format::parse(&body, Format::Json) {
        Ok(config) => config,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("the rules cannot be read: {e}"),
            )
                .into_response();
        }
    };
    let dialect = current.provider.dialect();
    let report = bucketcors_engine::validate(&config, dialect);
    if !report.is_valid() {
        let problems: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("invalid for {dialect}: {}", problems.join("; ")),
        )
            .into_response();
    }
    let result = match &state.source {
        Source::Dir(d) => {
            let Some(source) = current.source.clone() else {
                return (StatusCode::CONFLICT, "the manifest's file is unknown").into_response();
            };
            let d = d.clone();
            tokio::task::spawn_blocking(move || d.save(&source, &config))
                .await
                .unwrap_or_else(|e| Err(e.to_string()))
        }
        Source::Cluster(c) => {
            c.save(
                &ns,
                &name,
                dialect == bucketcors_engine::Dialect::Oss,
                &config,
            )
            .await
        }
    };
    match result {
        Ok(message) => (StatusCode::OK, message).into_response(),
        Err(message) => (StatusCode::CONFLICT, message).into_response(),
    }
}
