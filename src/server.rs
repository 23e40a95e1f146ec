//! Serving: bind, serve the router, stop gracefully on SIGTERM/SIGINT.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use tokio::net::TcpListener;

use crate::app::{App, AppState};
use crate::aws::AwsHooks;
use crate::config::Config;

/// Serves on the configured address until SIGTERM or SIGINT; in-flight requests finish first. On SIGHUP the
/// tokens are read again from `path` (see [`reload_on_hangup`]).
pub async fn run(config: Config, path: PathBuf) -> anyhow::Result<()> {
    // The handlers are installed before the first connection is accepted: a signal that arrives as soon as the
    // service answers must start a graceful stop (or a reload), not kill the process.
    let stop = shutdown_signal()?;
    let reload = Reload::install(path)?;
    let listener = TcpListener::bind(config.listen_address).await?;
    let app = App::new(config, AwsHooks::default()).await?;
    serve(listener, app, stop, reload).await
}

/// Where the configuration is read again from, and the signal that asks for it.
pub struct Reload {
    path: PathBuf,
    #[cfg(unix)]
    hangups: tokio::signal::unix::Signal,
}

impl Reload {
    pub fn install(path: PathBuf) -> std::io::Result<Option<Reload>> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let hangups = signal(SignalKind::hangup())?;
            Ok(Some(Reload { path, hangups }))
        }
        #[cfg(not(unix))]
        {
            let _ = path;
            Ok(None)
        }
    }
}

/// On every SIGHUP, loads and validates the configuration file again and puts its tokens (`[[tokens]]` and the
/// legacy `token`) in force; requests in flight keep the tokens they were checked with. A file that does not
/// load or validate is refused and logged, and the running tokens stay. Everything else (accounts, timeouts,
/// listen address, log settings) takes effect at the next restart: the AWS clients, pacing and running
/// workflows are built from it.
async fn reload_on_hangup(state: AppState, reload: Reload) {
    #[cfg(unix)]
    {
        let Reload { path, mut hangups } = reload;
        while hangups.recv().await.is_some() {
            match Config::load(&path, std::env::vars()) {
                Ok(config) => {
                    state.reload_tokens(&config);
                    tracing::info!(
                        path = %path.display(),
                        named_tokens = config.tokens.len(),
                        legacy_token = config.token.is_some(),
                        "configuration reloaded: its tokens are in force; other changes take effect at the next restart"
                    );
                }
                Err(e) => tracing::error!(
                    path = %path.display(),
                    error = %e,
                    "configuration reload refused; the running tokens stay"
                ),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (state, reload);
}

/// Serves `app` on `listener` until `shutdown` completes. Then it stops accepting connections, answers new
/// requests on open connections with 503, and gives the requests in flight and the detached workflows (creates
/// and their rollbacks) up to `shutdownGracePeriod` to finish.
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    reload: Option<Reload>,
) -> anyhow::Result<()> {
    let addr: SocketAddr = listener.local_addr()?;
    let state = AppState(Arc::new(app));
    let reloader = reload.map(|r| tokio::spawn(reload_on_hangup(state.clone(), r)));
    // The cleaners live as long as the server; a run cut short is simply done again later.
    let cleaners: Vec<_> = state
        .accounts
        .keys()
        .filter_map(|name| {
            let config = state.accounts[name].config.cleaner.clone()?;
            let interval = config.interval?;
            let ctx = state.ctx(name).ok()?;
            Some(tokio::spawn(crate::orchestration::cleaner::run_forever(
                ctx, config, interval,
            )))
        })
        .collect();

    let (stopped_at, mut stop_seen) = tokio::sync::watch::channel(None::<Instant>);
    let signal = {
        let state = state.clone();
        async move {
            shutdown.await;
            state.stopping.store(true, Ordering::SeqCst);
            let _ = stopped_at.send(Some(Instant::now()));
        }
    };
    let router = crate::http::router(state.clone());
    tracing::info!(%addr, version = crate::version::VERSION, "listening");
    let server = tokio::spawn(
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(signal)
        .into_future(),
    );

    let grace = state.config.shutdown_grace_period;
    let deadline = async {
        let since = *stop_seen
            .wait_for(Option::is_some)
            .await
            .expect("the sender lives until the signal");
        tokio::time::sleep_until((since.expect("checked") + grace).into()).await;
    };
    tokio::select! {
        served = server => served??,
        _ = deadline => tracing::warn!("grace period over: stopping with requests still in flight"),
    }
    for cleaner in cleaners {
        cleaner.abort();
    }
    if let Some(reloader) = reloader {
        reloader.abort();
    }
    state.tasks.close();
    let since = stop_seen.borrow().unwrap_or_else(Instant::now);
    if tokio::time::timeout_at((since + grace).into(), state.tasks.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            running = state.tasks.len(),
            "grace period over: background workflows cut short"
        );
    }
    tracing::info!("stopped");
    Ok(())
}

/// One cleaner run for `account`, as `s3-api clean --account NAME` does it.
pub async fn clean(
    config: Config,
    account: &str,
) -> anyhow::Result<crate::orchestration::cleaner::CleanReport> {
    if !config.accounts.contains_key(account) {
        anyhow::bail!("account {account} is not configured");
    }
    let app = App::new(config, AwsHooks::default()).await?;
    let ctx = app.ctx(account).map_err(|e| anyhow::anyhow!(e.detail))?;
    let reclaim_after =
        crate::config::CleanerConfig::reclaim_after_of(ctx.config().cleaner.as_ref());
    Ok(crate::orchestration::cleaner::run_once(&ctx, reclaim_after).await?)
}

/// Asks the service on `address` for `/v1/s3/ping` over plain HTTP/1.1: the container health check, with no
/// HTTP client in the image.
pub fn healthcheck(address: SocketAddr) -> anyhow::Result<()> {
    use std::io::{Read, Write};
    let timeout = std::time::Duration::from_secs(3);
    let mut stream = std::net::TcpStream::connect_timeout(&address, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream
        .write_all(b"GET /v1/s3/ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    let mut response = String::new();
    stream.take(64 * 1024).read_to_string(&mut response)?;
    if response.starts_with("HTTP/1.1 200") && response.ends_with("pong") {
        Ok(())
    } else {
        anyhow::bail!(
            "unexpected answer: {}",
            response.lines().next().unwrap_or_default()
        )
    }
}

/// SIGTERM or SIGINT, with both handlers installed now (tokio installs a handler when the stream is made, not
/// when it is first polled).
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
        tracing::info!("shutdown signal received, finishing in-flight requests");
    })
}

#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutdown signal received, finishing in-flight requests");
    })
}
