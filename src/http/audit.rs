//! The audit trail (API.md §1.1): every request that changes something, or was refused while trying to (`POST`,
//! `PUT`, `PATCH`, `DELETE`, whatever the status), writes one event: a log line with target `audit` that names the
//! token (never a secret), the client, the route, the account, the resource and the status, and for creates and
//! deletes what was created or deleted in AWS and the rollback. The fields are read from the request and from the
//! answer, which already says all of it, so the handlers know nothing of the trail.

use std::net::SocketAddr;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::auth::Caller;
use super::observe::{account_of, REQUEST_ID_HEADER};
use super::BODY_LIMIT;

/// Answers larger than this are passed on without being read for the trail (none of the service's are).
const ANSWER_LIMIT: usize = 1 << 20;

pub async fn audit(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    if !matches!(
        method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) {
        return next.run(req).await;
    }
    let mut seen = Seen::of(&req);
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            let response = super::extract::too_large().into_response();
            seen.record(&response, None);
            return response;
        }
    };
    // A create names what it makes in its body.
    if let Ok(sent) = serde_json::from_slice::<Value>(&body) {
        for name in [&sent["BucketInput"]["Bucket"], &sent["User"]["UserName"]] {
            if let Some(n) = name.as_str() {
                seen.names.push(short(n));
            }
        }
    }
    let response = next.run(Request::from_parts(parts, Body::from(body))).await;

    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("json"));
    if !is_json {
        seen.record(&response, None);
        return response;
    }
    let (parts, body) = response.into_parts();
    let answer: Bytes = match axum::body::to_bytes(body, ANSWER_LIMIT).await {
        Ok(b) => b,
        Err(_) => Bytes::new(),
    };
    let response = Response::from_parts(parts, Body::from(answer.clone()));
    seen.record(
        &response,
        serde_json::from_slice::<Value>(&answer).ok().as_ref(),
    );
    response
}

fn short(s: &str) -> String {
    s.chars().take(128).collect()
}

/// What the trail needs of a request, read before it is handled.
struct Seen {
    request_id: String,
    client: Option<String>,
    method: Method,
    route: Option<String>,
    account: Option<String>,
    /// The names of the resource: from the path, and from a create's body.
    names: Vec<String>,
}

impl Seen {
    fn of(req: &Request) -> Seen {
        let route = req
            .extensions()
            .get::<MatchedPath>()
            .map(|m| m.as_str().to_owned());
        let path = req.uri().path();
        // Names as sent are the caller's input: only those of a route the service has, each cut short.
        let names = match &route {
            Some(template) => template
                .split('/')
                .zip(path.split('/'))
                .filter(|(t, _)| t.starts_with('{') && *t != "{account}")
                .map(|(_, p)| short(p))
                .collect(),
            None => Vec::new(),
        };
        Seen {
            request_id: req
                .headers()
                .get(REQUEST_ID_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
            client: req
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string()),
            method: req.method().clone(),
            account: route
                .as_deref()
                .and_then(|template| account_of(template, path))
                .map(|a| short(&a)),
            route,
            names,
        }
    }

    /// Writes the event of the request that got `response` (whose JSON body is `answer`).
    fn record(&self, response: &Response, answer: Option<&Value>) {
        let caller = response.extensions().get::<Caller>();
        let status = response.status().as_u16();
        let success = response.status().is_success();
        let listed = |names: Vec<String>| Value::from(names).to_string();
        let (created, deleted) = match (&self.method, answer) {
            (&Method::POST, Some(a)) if success => (Some(listed(made(a))), None),
            (&Method::DELETE, Some(a)) if success => (None, Some(listed(removed(a)))),
            _ => (None, None),
        };
        let rollback = answer.and_then(|a| a.get("rollback")).map(Value::to_string);
        tracing::info!(
            target: "audit",
            requestId = %self.request_id,
            // "-" where there is none: no token or an unknown one, no client address (in-process), no account.
            token = caller.map_or("-", |c| &*c.0),
            client = self.client.as_deref().unwrap_or("-"),
            method = %self.method,
            route = self.route.as_deref().unwrap_or("unmatched"),
            account = self.account.as_deref().unwrap_or("-"),
            resource = %self.names.join("/"),
            status,
            created = created.as_deref(),
            deleted = deleted.as_deref(),
            rollback = rollback.as_deref(),
            "audit"
        );
    }
}

/// What a create's answer says it made: every ARN in it, and a distribution's id. (Never a secret: access keys
/// are named by their id only.)
fn made(answer: &Value) -> Vec<String> {
    let mut out = Vec::new();
    collect(answer, &mut out, &|key| matches!(key, "Arn"));
    if let Some(id) = answer["Distribution"]["Id"].as_str() {
        out.push(format!("distribution {id}"));
    }
    if let Some(id) = answer["AccessKey"]["AccessKeyId"].as_str() {
        out.push(format!("access key {id}"));
    }
    out
}

/// What a delete's answer says it removed: the names it lists.
fn removed(answer: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(object) = answer.as_object() {
        for (key, value) in object {
            match value {
                Value::String(s) if matches!(key.as_str(), "Bucket" | "User" | "Website") => {
                    out.push(s.clone())
                }
                Value::Array(items) => {
                    out.extend(items.iter().filter_map(Value::as_str).map(str::to_owned))
                }
                _ => {}
            }
        }
    }
    out
}

fn collect(value: &Value, out: &mut Vec<String>, wanted: &dyn Fn(&str) -> bool) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::String(s) if wanted(k) => out.push(s.clone()),
                    other => collect(other, out, wanted),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect(v, out, wanted)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_answers_say_was_made_and_removed() {
        let created = serde_json::json!({
            "User": {"UserName": "u", "Arn": "arn:aws:iam::1:user/u"},
            "AccessKey": {"AccessKeyId": "AKIA1", "SecretAccessKey": "never-logged"},
            "Groups": [{"Arn": "arn:aws:iam::1:group/g"}]
        });
        let made = made(&created);
        assert_eq!(
            made,
            vec![
                "arn:aws:iam::1:group/g".to_owned(),
                "arn:aws:iam::1:user/u".to_owned(),
                "access key AKIA1".to_owned()
            ]
        );
        assert!(!format!("{made:?}").contains("never-logged"));
        let deleted = serde_json::json!({
            "Bucket": "b", "Users": ["u1"], "Policies": ["b-BktAdmPlc"], "Groups": ["b-BktAdmGrp"]
        });
        let mut removed = removed(&deleted);
        removed.sort();
        assert_eq!(removed, vec!["b", "b-BktAdmGrp", "b-BktAdmPlc", "u1"]);
    }
}
