//! The running service's shared state: configuration, per-account AWS clients, metrics, authentication.

use std::collections::BTreeMap;
use std::ops::Deref;
use std::sync::Arc;

use axum::http::StatusCode;

use crate::aws::{AwsAccount, AwsHooks, Timing};
use crate::config::Config;
use crate::domain::tags::Tag;
use crate::http::auth::Auth;
use crate::http::ApiError;
use crate::orchestration::Ctx;
use crate::telemetry::Metrics;

pub struct App {
    pub config: Config,
    pub accounts: BTreeMap<String, Arc<AwsAccount>>,
    pub metrics: Arc<Metrics>,
    /// The tokens, replaced whole when the configuration is reloaded (`SIGHUP`).
    auth: std::sync::RwLock<Arc<Auth>>,
    /// Workflows running detached from their requests (see `http::detached`).
    pub tasks: tokio_util::task::TaskTracker,
    /// Set once the service has been asked to stop: new requests get 503.
    pub stopping: std::sync::atomic::AtomicBool,
}

/// The axum state: a cheap handle on the one `App`.
#[derive(Clone)]
pub struct AppState(pub Arc<App>);

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

impl App {
    /// Builds the AWS clients of every account once and looks up the hosted zones the configuration leaves out;
    /// fails when one cannot be found. `hooks` adds SDK interceptors (used by the tests).
    pub async fn new(config: Config, hooks: AwsHooks) -> anyhow::Result<App> {
        let metrics = Arc::new(Metrics::new());
        let mut accounts = BTreeMap::new();
        for (name, account) in &config.accounts {
            let timing = Timing {
                aws: config.aws_timeout,
                request: config.request_timeout,
            };
            let mut clients =
                AwsAccount::connect(name, account, timing, metrics.clone(), &hooks).await;
            clients.resolve_hosted_zones().await?;
            accounts.insert(name.clone(), Arc::new(clients));
        }
        Ok(App {
            auth: std::sync::RwLock::new(Arc::new(Auth::new(&config))),
            config,
            accounts,
            metrics,
            tasks: tokio_util::task::TaskTracker::new(),
            stopping: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// The tokens in force now.
    pub fn auth(&self) -> Arc<Auth> {
        self.auth.read().expect("auth lock").clone()
    }

    /// Puts the tokens of `config` in force: requests that already checked their token are not affected.
    pub fn reload_tokens(&self, config: &Config) {
        *self.auth.write().expect("auth lock") = Arc::new(Auth::new(config));
    }

    /// The workflow context of the account named in the path; 404 before any AWS call when it is unknown.
    pub fn ctx(&self, account: &str) -> Result<Ctx, ApiError> {
        let aws = self.accounts.get(account).ok_or_else(|| {
            let shown: String = account.chars().take(64).collect();
            ApiError::new(
                StatusCode::NOT_FOUND,
                "AccountNotFound",
                format!("account {shown} not found"),
            )
        })?;
        Ok(Ctx::new(
            aws.clone(),
            self.metrics.clone(),
            Tag::new(&self.config.org_tag_key, &self.config.org),
            self.tasks.clone(),
            self.config.shutdown_grace_period,
        ))
    }
}
