//! Websites: S3 website bucket + CloudFront + ACM + Route 53, their users, and the cleaner.

use axum::http::Method;
use serde_json::{json, Value};

use crate::creates::{scoped_website_user_body, WEBSITE_CREATE_CALLS, WEBSITE_USER_CREATE_CALLS};
use crate::faults::Fault;
use crate::helpers::{unique, TestApp, Website, ORG};

/// The seed's website body, for `name`.
pub(crate) fn seed_body(name: &str) -> Value {
    json!({
        "Tags": [
            {"Key": "Application", "Value": "HowToGet"},
            {"Key": "COA", "Value": "Take.My.Money.USD"},
            {"Key": "CreatedBy", "Value": "Big Bird"}
        ],
        "BucketInput": {"Bucket": name},
        "WebsiteConfiguration": {"IndexDocument": {"Suffix": "index.html"}}
    })
}

pub(crate) fn site_name(w: &Website, label: &str) -> String {
    format!("{}.{}", unique(label), w.domain)
}

pub(crate) async fn create_site(app: &TestApp, name: &str) -> Value {
    let r = app.post(&app.websites(""), seed_body(name)).await;
    r.assert_status(202);
    assert_eq!(
        r.headers["location"],
        format!("/v1/s3/test/websites/{name}").as_str()
    );
    r.json()
}

/// The A and AAAA records of `name` in the zone: (type, alias DNS name).
pub(crate) async fn records(app: &TestApp, w: &Website, name: &str) -> Vec<(String, String)> {
    let out = app
        .aws
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(&w.zone_id)
        .send()
        .await
        .unwrap();
    let mut found: Vec<(String, String)> = out
        .resource_record_sets()
        .iter()
        .filter(|r| r.name().trim_end_matches('.') == name)
        .filter_map(|r| {
            Some((
                r.r#type().as_str().to_owned(),
                r.alias_target()?.dns_name().to_owned(),
            ))
        })
        .collect();
    found.sort();
    found
}

#[tokio::test]
async fn create_with_the_seed_body_builds_the_whole_site() {
    let (app, w) = TestApp::spawn_websites().await;
    let name = site_name(&w, "www");
    let v = create_site(&app, &name).await;
    assert_eq!(v["Bucket"], format!("/{name}"));
    assert_eq!(v["Policy"]["PolicyName"], format!("{name}-BktAdmPlc"));
    assert_eq!(v["Group"]["GroupName"], format!("{name}-BktAdmGrp"));
    assert_eq!(v["WebPolicy"]["PolicyName"], format!("{name}-WebAdmPlc"));
    assert_eq!(
        v["WebPolicy"]["Description"],
        format!("Admin policy for {name} web distribution")
    );
    assert_eq!(v["WebGroup"]["GroupName"], format!("{name}-WebAdmGrp"));
    assert_eq!(v["DnsChange"]["Comment"], "Created by s3-api");
    let d = &v["Distribution"];
    let dist_id = d["Id"].as_str().unwrap().to_owned();
    let dist_domain = d["DomainName"].as_str().unwrap().to_owned();
    let c = &d["DistributionConfig"];
    assert_eq!(c["Aliases"]["Items"], json!([name]));
    assert_eq!(c["Comment"], name);
    assert_eq!(c["DefaultRootObject"], "index.html");
    assert_eq!(c["Enabled"], true);
    assert_eq!(c["HttpVersion"], "http2and3");
    assert_eq!(c["IsIPV6Enabled"], true);
    assert_eq!(c["PriceClass"], "PriceClass_100");
    assert_eq!(
        c["DefaultCacheBehavior"]["ViewerProtocolPolicy"],
        "redirect-to-https"
    );
    assert_eq!(c["DefaultCacheBehavior"]["TargetOriginId"], name);

    // The distribution as CloudFront holds it.
    let stored = app
        .aws
        .cloudfront
        .get_distribution_config()
        .id(&dist_id)
        .send()
        .await
        .unwrap();
    let stored = stored.distribution_config().unwrap();
    let cert = stored.viewer_certificate().unwrap();
    assert_eq!(cert.acm_certificate_arn(), Some(w.cert_arn.as_str()));
    assert_eq!(
        cert.minimum_protocol_version().map(|m| m.as_str()),
        Some("TLSv1.2_2021")
    );
    assert_eq!(
        cert.ssl_support_method().map(|m| m.as_str()),
        Some("sni-only")
    );
    let origin = &stored.origins().unwrap().items()[0];
    assert_eq!(
        origin.domain_name(),
        format!("{name}.s3-website-us-east-1.amazonaws.com")
    );
    assert_eq!(
        origin
            .custom_origin_config()
            .unwrap()
            .origin_protocol_policy()
            .as_str(),
        "http-only"
    );
    let dist_arn = format!(
        "arn:aws:cloudfront::{}:distribution/{dist_id}",
        app.account_id
    );
    let tags = app
        .aws
        .cloudfront
        .list_tags_for_resource()
        .resource(&dist_arn)
        .send()
        .await
        .unwrap();
    let tags = tags.tags().unwrap().items();
    assert!(tags
        .iter()
        .any(|t| t.key() == "spinup:org" && t.value() == Some(ORG)));
    assert!(tags
        .iter()
        .any(|t| t.key() == "CreatedBy" && t.value() == Some("Big Bird")));

    // The bucket: website hosting, public read, public access block opened only for the policy.
    let s3 = &app.aws.s3;
    let site = s3.get_bucket_website().bucket(&name).send().await.unwrap();
    assert_eq!(site.index_document().unwrap().suffix(), "index.html");
    let policy = s3.get_bucket_policy().bucket(&name).send().await.unwrap();
    let policy: Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    assert_eq!(policy["Statement"][0]["Principal"], "*");
    assert_eq!(policy["Statement"][0]["Action"], json!(["s3:GetObject"]));
    assert_eq!(
        policy["Statement"][0]["Resource"],
        json!([format!("arn:aws:s3:::{name}/*")])
    );
    assert_eq!(
        app.aws.public_access_flags(&name).await,
        (true, true, false, false)
    );
    let page = s3
        .get_object()
        .bucket(&name)
        .key("index.html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.content_type(), Some("text/html; charset=utf-8"));

    // DNS: A and AAAA aliases to the distribution.
    let expected_target = format!("{dist_domain}.");
    assert_eq!(
        records(&app, &w, &name).await,
        vec![
            ("A".to_owned(), expected_target.clone()),
            ("AAAA".to_owned(), expected_target)
        ]
    );

    // IAM: the CloudFront admin policy on its group, granting only this distribution.
    let web_policy = app.policy_arn(&format!("{name}-WebAdmPlc"));
    assert_eq!(
        app.aws.group_policies(&format!("{name}-WebAdmGrp")).await,
        vec![web_policy.clone()]
    );
    let doc = app.aws.policy_document(&web_policy).await;
    assert_eq!(doc["Statement"][0]["Resource"], json!([dist_arn]));

    // Show: empty (the placeholder does not count), with the DNS record and the distribution.
    let show = app.get(&app.websites(&format!("/{name}"))).await;
    show.assert_status(200);
    let s = show.json();
    assert_eq!(s["Empty"], true);
    assert_eq!(s["DNSRecord"]["Type"], "A");
    assert_eq!(
        s["DNSRecord"]["AliasTarget"]["HostedZoneId"],
        "Z2FDTNDATAQYW2"
    );
    assert_eq!(s["Distribution"]["Id"], dist_id);
    assert!(s["Distribution"]["Status"].is_string());
    assert_eq!(s["Logging"]["TargetPrefix"], format!("s3/{name}/"));

    app.request(Method::HEAD, &app.websites(&format!("/{name}")), None)
        .await
        .assert_status(200);
    let duck = app.get(&app.websites(&format!("/{name}/duck"))).await;
    duck.assert_status(200);
    assert!(duck.text().contains(&format!("/{name}")));
}

#[tokio::test]
async fn website_requests_are_validated_before_any_aws_call() {
    let (app, w) = TestApp::spawn_websites().await;
    app.faults.clear_calls();
    let cases = [
        (seed_body("www.not-configured.org"), "DomainNotConfigured"),
        (
            seed_body(&format!("a.b.{}", w.domain)),
            "DomainNotConfigured",
        ),
        (seed_body(&w.domain), "DomainNotConfigured"),
        (seed_body(&format!("-x.{}", w.domain)), "InvalidWebsiteName"),
        (seed_body(&format!("UP.{}", w.domain)), "InvalidWebsiteName"),
        (
            json!({"BucketInput": {"Bucket": site_name(&w, "x")}, "WebsiteConfiguration": {"IndexDocument": {"Suffix": "../x"}}}),
            "InvalidWebsiteConfiguration",
        ),
        (
            json!({"BucketInput": {"Bucket": site_name(&w, "x")}, "WebsiteConfiguration": {"RoutingRules": []}}),
            "InvalidRequestBody",
        ),
    ];
    for (body, code) in cases {
        let r = app.post(&app.websites(""), body.clone()).await;
        r.assert_status(400);
        assert_eq!(r.code(), code, "{body}");
    }
    let name = site_name(&w, "v");
    for paths in [
        json!([]),
        json!(["no-slash"]),
        json!((0..16).map(|i| format!("/{i}")).collect::<Vec<_>>()),
    ] {
        let r = app
            .request(
                Method::PATCH,
                &app.websites(&format!("/{name}")),
                Some(json!({"CacheInvalidation": paths})),
            )
            .await;
        r.assert_status(400);
    }
    for path in ["team", "/a//b/", "/a_b/", "/../"] {
        let r = app
            .post(
                &app.websites(&format!("/{name}/users")),
                json!({"User": {"UserName": "u", "Path": path}}),
            )
            .await;
        r.assert_status(400);
    }
    let r = app
        .post(
            &app.websites(&format!("/{name}/users")),
            json!({"User": {"UserName": "u", "Path": "/team/"}, "Groups": ["WebAdmGrp"]}),
        )
        .await;
    r.assert_status(400);
    assert!(app.faults.calls().is_empty(), "{:?}", app.faults.calls());
}

#[tokio::test]
async fn update_invalidate_and_delete() {
    let (app, w) = TestApp::spawn_websites().await;
    let name = site_name(&w, "blog");
    let neighbour = format!("my{name}");
    let v = create_site(&app, &name).await;
    create_site(&app, &neighbour).await;
    let neighbour_user = unique("nu");
    let r = app
        .post(
            &app.websites(&format!("/{neighbour}/users")),
            json!({"User": {"UserName": neighbour_user}}),
        )
        .await;
    r.assert_status(200);
    let dist_id = v["Distribution"]["Id"].as_str().unwrap().to_owned();
    let dist_arn = format!(
        "arn:aws:cloudfront::{}:distribution/{dist_id}",
        app.account_id
    );

    // Tags: the same set on the bucket and the distribution.
    let r = app
        .put(
            &app.websites(&format!("/{name}")),
            json!({"Tags": [{"Key": "Owner", "Value": "Oscar"}]}),
        )
        .await;
    r.assert_status(200);
    let dist_tags = app
        .aws
        .cloudfront
        .list_tags_for_resource()
        .resource(&dist_arn)
        .send()
        .await
        .unwrap();
    let mut dist_tags: Vec<(String, String)> = dist_tags
        .tags()
        .unwrap()
        .items()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().unwrap_or_default().to_owned()))
        .collect();
    dist_tags.sort();
    assert_eq!(
        dist_tags,
        vec![
            ("Owner".into(), "Oscar".into()),
            ("spinup:org".into(), ORG.into())
        ]
    );
    let bucket_tags = r.json()["Tags"].as_array().unwrap().clone();
    for (k, v) in &dist_tags {
        assert!(
            bucket_tags
                .iter()
                .any(|t| t["Key"] == *k && t["Value"] == *v),
            "{bucket_tags:?}"
        );
    }
    assert!(!bucket_tags.iter().any(|t| t["Key"] == "CreatedBy"));

    // Invalidation.
    let r = app
        .request(
            Method::PATCH,
            &app.websites(&format!("/{name}")),
            Some(json!({"CacheInvalidation": ["/*"]})),
        )
        .await;
    r.assert_status(200);
    let inv = r.json();
    assert_eq!(
        inv["Invalidation"]["InvalidationBatch"]["Paths"]["Items"],
        json!(["/*"])
    );
    assert!(inv["Location"].as_str().unwrap().contains(&dist_id));

    // Delete refuses content other than placeholders.
    app.aws
        .s3
        .put_object()
        .bucket(&name)
        .key("real.html")
        .body(b"hi".to_vec().into())
        .send()
        .await
        .unwrap();
    let show = app.get(&app.websites(&format!("/{name}"))).await.json();
    assert_eq!(show["Empty"], false);
    let r = app.delete(&app.websites(&format!("/{name}"))).await;
    r.assert_status(409);
    assert_eq!(
        records(&app, &w, &name).await.len(),
        2,
        "nothing deleted on 409"
    );
    app.aws
        .s3
        .delete_object()
        .bucket(&name)
        .key("real.html")
        .send()
        .await
        .unwrap();

    let user = unique("editor");
    app.post(
        &app.websites(&format!("/{name}/users")),
        json!({"User": {"UserName": user}}),
    )
    .await
    .assert_status(200);
    let r = app.delete(&app.websites(&format!("/{name}"))).await;
    r.assert_status(200);
    let d = r.json();
    assert_eq!(d["Website"], name);
    assert_eq!(d["Users"], json!([user]));
    assert_eq!(d["DNSRecord"]["Type"], "A");
    assert_eq!(d["Distribution"]["DistributionConfig"]["Enabled"], false);
    assert_eq!(
        d["Distribution"]["DistributionConfig"]["Aliases"]["Quantity"], 0,
        "the name is free again"
    );
    assert!(records(&app, &w, &name).await.is_empty());
    let config = app
        .aws
        .cloudfront
        .get_distribution_config()
        .id(&dist_id)
        .send()
        .await
        .unwrap();
    assert!(
        !config.distribution_config().unwrap().enabled(),
        "left disabled for the cleaner"
    );
    assert!(!app.aws.bucket_exists(&name).await);
    assert!(!app.aws.user_exists(&user).await);
    for suffix in ["BktAdmGrp", "WebAdmGrp"] {
        assert!(!app.aws.group_exists(&format!("{name}-{suffix}")).await);
    }
    assert!(
        !app.aws
            .policy_exists(&app.policy_arn(&format!("{name}-WebAdmPlc")))
            .await
    );

    // The neighbour whose name ends the same is untouched.
    assert!(app.aws.bucket_exists(&neighbour).await);
    assert_eq!(records(&app, &w, &neighbour).await.len(), 2);
    assert!(app.aws.user_exists(&neighbour_user).await);
    assert_eq!(
        app.aws.groups_of(&neighbour_user).await,
        vec![
            format!("{neighbour}-BktAdmGrp"),
            format!("{neighbour}-WebAdmGrp")
        ]
    );

    app.delete(&app.websites(&format!("/{name}")))
        .await
        .assert_status(404);
}

#[tokio::test]
async fn website_users_at_the_root_and_scoped_to_a_path() {
    let (app, w) = TestApp::spawn_websites().await;
    let name = site_name(&w, "team");
    create_site(&app, &name).await;
    let users_path = app.websites(&format!("/{name}/users"));

    let root = unique("root");
    let r = app
        .post(&users_path, json!({"User": {"UserName": root}}))
        .await;
    r.assert_status(200);
    assert_eq!(
        app.aws.groups_of(&root).await,
        vec![format!("{name}-BktAdmGrp"), format!("{name}-WebAdmGrp")]
    );

    let scoped = unique("scoped");
    let r = app
        .post(
            &users_path,
            json!({"User": {"UserName": scoped, "Path": "/team/docs/"}, "Groups": ["BktRWGrp"]}),
        )
        .await;
    r.assert_status(200);
    let group = format!("{name}_team_docs-BktRWGrp");
    assert_eq!(app.aws.groups_of(&scoped).await, vec![group.clone()]);
    let g = app
        .aws
        .iam
        .get_group()
        .group_name(&group)
        .send()
        .await
        .unwrap();
    assert_eq!(g.group().unwrap().path(), format!("/{name}/team/docs/"));
    let policy_arn = format!(
        "arn:aws:iam::{}:policy/{name}/team/docs/{name}_team_docs-BktRWPlc",
        app.account_id
    );
    assert_eq!(
        app.aws.group_policies(&group).await,
        vec![policy_arn.clone()]
    );
    let doc = app.aws.policy_document(&policy_arn).await;
    let statements = doc["Statement"].as_array().unwrap();
    assert_eq!(
        statements[1]["Condition"]["StringLike"]["s3:prefix"],
        json!(["team/docs/", "team/docs/*"])
    );
    assert_eq!(
        statements[2]["Resource"],
        json!([format!("arn:aws:s3:::{name}/team/docs/*")])
    );
    assert!(app
        .aws
        .s3
        .head_object()
        .bucket(&name)
        .key("team/docs/index.html")
        .send()
        .await
        .is_ok());

    // The placeholders do not make the site non-empty.
    assert_eq!(
        app.get(&app.websites(&format!("/{name}"))).await.json()["Empty"],
        true
    );

    let list = app.get(&users_path).await;
    list.assert_status(200);
    let mut names: Vec<String> = list
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["UserName"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    let mut expected = vec![root.clone(), scoped.clone()];
    expected.sort();
    assert_eq!(names, expected);

    let show = app.get(&format!("{users_path}/{scoped}")).await;
    show.assert_status(200);
    assert_eq!(show.json()["Groups"][0]["GroupName"], group);
    app.request(Method::PUT, &format!("{users_path}/{scoped}"), None)
        .await
        .assert_status(200);
    app.delete(&format!("{users_path}/{scoped}"))
        .await
        .assert_status(200);
    assert!(!app.aws.user_exists(&scoped).await);

    // Bucket users of another site are not found here.
    let other = site_name(&w, "other");
    create_site(&app, &other).await;
    let stranger = unique("stranger");
    app.post(
        &app.websites(&format!("/{other}/users")),
        json!({"User": {"UserName": stranger}}),
    )
    .await
    .assert_status(200);
    app.get(&format!("{users_path}/{stranger}"))
        .await
        .assert_status(404);

    // Deleting the site removes the scoped groups and policies too.
    app.delete(&app.websites(&format!("/{name}")))
        .await
        .assert_status(200);
    assert!(!app.aws.group_exists(&group).await);
    assert!(!app.aws.policy_exists(&policy_arn).await);
    assert!(!app.aws.user_exists(&root).await);
}

#[tokio::test]
async fn the_test_covers_every_call_of_website_create() {
    let (app, w) = TestApp::spawn_websites().await;
    create_site(&app, &site_name(&w, "calls")).await;
    app.assert_create_calls(WEBSITE_CREATE_CALLS);
}

#[tokio::test]
async fn website_create_rolls_back_when_any_call_fails() {
    for op in WEBSITE_CREATE_CALLS {
        let (app, w) = TestApp::spawn_websites().await;
        let name = site_name(&w, "rb");
        app.faults.fail_once(
            op,
            Fault::Service {
                status: 403,
                code: "AccessDenied",
            },
        );
        let r = app.post(&app.websites(""), seed_body(&name)).await;
        assert!(
            r.status.is_client_error() || r.status.is_server_error(),
            "{op}: {}",
            r.text()
        );
        assert!(!app.aws.bucket_exists(&name).await, "{op}: bucket left");
        assert!(
            app.aws.policy_names().await.is_empty(),
            "{op}: policies left"
        );
        assert!(app.aws.group_names().await.is_empty(), "{op}: groups left");
        assert!(
            records(&app, &w, &name).await.is_empty(),
            "{op}: DNS records left"
        );
        // A distribution may only be left disabled, for the cleaner.
        let list = app
            .aws
            .cloudfront
            .list_distributions()
            .send()
            .await
            .unwrap();
        for d in list
            .distribution_list()
            .map(|l| l.items())
            .unwrap_or_default()
        {
            assert!(!d.enabled(), "{op}: an enabled distribution was left");
        }
    }
}

#[tokio::test]
async fn a_website_delete_that_fails_half_way_finishes_when_repeated() {
    for op in [
        "route53:ChangeResourceRecordSets",
        "cloudfront:UpdateDistribution",
        "iam:DeleteGroup",
        "s3:DeleteObject",
        "s3:DeleteBucket",
    ] {
        let (app, w) = TestApp::spawn_websites().await;
        let name = site_name(&w, "half");
        create_site(&app, &name).await;
        app.faults.fail_once(
            op,
            Fault::Service {
                status: 403,
                code: "AccessDenied",
            },
        );
        let r = app.delete(&app.websites(&format!("/{name}"))).await;
        assert!(!r.status.is_success(), "{op}");
        app.delete(&app.websites(&format!("/{name}")))
            .await
            .assert_status(200);
        assert!(!app.aws.bucket_exists(&name).await, "{op}");
        assert!(records(&app, &w, &name).await.is_empty(), "{op}");
        assert!(app.aws.group_names().await.is_empty(), "{op}");
        assert!(app.aws.policy_names().await.is_empty(), "{op}");
    }
}

#[tokio::test]
async fn website_user_create_rolls_back_when_any_call_fails() {
    let (app, w) = TestApp::spawn_websites().await;
    let name = site_name(&w, "urb");
    create_site(&app, &name).await;
    let groups = app.aws.group_names().await;
    let policies = app.aws.policy_names().await;
    app.faults.clear_calls();
    let body = scoped_website_user_body;
    let probe = unique("probe");
    app.post(&app.websites(&format!("/{name}/users")), body(&probe))
        .await
        .assert_status(200);
    app.assert_create_calls(WEBSITE_USER_CREATE_CALLS);
    app.delete(&app.websites(&format!("/{name}/users/{probe}")))
        .await
        .assert_status(200);
    // Back to the site as created: no scoped group, policy or placeholder yet.
    for g in app
        .aws
        .group_names()
        .await
        .into_iter()
        .filter(|g| !groups.contains(g))
    {
        app.aws
            .iam
            .detach_group_policy()
            .group_name(&g)
            .policy_arn(format!(
                "arn:aws:iam::{}:policy/{name}/team/{name}_team-BktROPlc",
                app.account_id
            ))
            .send()
            .await
            .unwrap();
        app.aws
            .iam
            .delete_group()
            .group_name(&g)
            .send()
            .await
            .unwrap();
    }
    app.aws
        .iam
        .delete_policy()
        .policy_arn(format!(
            "arn:aws:iam::{}:policy/{name}/team/{name}_team-BktROPlc",
            app.account_id
        ))
        .send()
        .await
        .unwrap();
    app.aws
        .s3
        .delete_object()
        .bucket(&name)
        .key("team/index.html")
        .send()
        .await
        .unwrap();

    for op in WEBSITE_USER_CREATE_CALLS {
        let user = unique("ru");
        app.faults.fail_once(
            op,
            Fault::Service {
                status: 403,
                code: "AccessDenied",
            },
        );
        let r = app
            .post(&app.websites(&format!("/{name}/users")), body(&user))
            .await;
        assert!(!r.status.is_success(), "{op}: {}", r.text());
        assert!(!app.aws.user_exists(&user).await, "{op}: user left");
        assert_eq!(app.aws.group_names().await, groups, "{op}");
        assert_eq!(app.aws.policy_names().await, policies, "{op}");
        let placeholder = app
            .aws
            .s3
            .head_object()
            .bucket(&name)
            .key("team/index.html")
            .send()
            .await;
        assert!(placeholder.is_err(), "{op}: placeholder left");
    }
}

#[tokio::test]
async fn a_configured_certificate_must_cover_the_name() {
    let (app, w) = TestApp::spawn_websites_with(|c, _| {
        let account = c.accounts.get_mut("test").unwrap();
        for d in account.domains.values_mut() {
            d.cert_arn =
                Some("arn:aws:acm:us-east-1:123456789012:certificate/does-not-exist".into());
        }
    })
    .await;
    let name = site_name(&w, "cert");
    let r = app.post(&app.websites(""), seed_body(&name)).await;
    r.assert_status(500);
    assert_eq!(r.code(), "ConfigurationError");
    assert_eq!(r.json()["rollback"]["complete"], true);
    assert!(!app.aws.bucket_exists(&name).await);
}

#[tokio::test]
async fn the_cleaner_deletes_only_orphaned_disabled_org_distributions() {
    let (app, w) = TestApp::spawn_websites().await;
    let (gone, kept, foreign) = (
        site_name(&w, "gone"),
        site_name(&w, "kept"),
        site_name(&w, "foreign"),
    );
    let gone_id = create_site(&app, &gone).await["Distribution"]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let kept_id = create_site(&app, &kept).await["Distribution"]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let foreign_id = create_site(&app, &foreign).await["Distribution"]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.delete(&app.websites(&format!("/{gone}")))
        .await
        .assert_status(200);
    // `kept`: disabled but its bucket still exists. `foreign`: orphaned, but without the org tag.
    let ctx = app.state.ctx("test").unwrap();
    app.state.accounts["test"]
        .disable_distribution(&kept_id)
        .await
        .unwrap();
    let foreign_arn = format!(
        "arn:aws:cloudfront::{}:distribution/{foreign_id}",
        app.account_id
    );
    app.state.accounts["test"]
        .untag_distribution(&foreign_arn, &["spinup:org".to_owned()])
        .await
        .unwrap();
    app.delete(&app.websites(&format!("/{foreign}")))
        .await
        .assert_status(200);

    let report =
        s3_api::orchestration::cleaner::run_once(&ctx, std::time::Duration::from_secs(900))
            .await
            .unwrap();
    assert_eq!(report.deleted, vec![gone_id.clone()]);
    assert!(report.failed.is_empty());
    let exists = |id: String| {
        let cf = app.aws.cloudfront.clone();
        async move { cf.get_distribution().id(id).send().await.is_ok() }
    };
    assert!(!exists(gone_id).await);
    assert!(exists(kept_id).await);
    assert!(exists(foreign_id).await);
    // A second replica running at the same time, or later, finds nothing to do.
    let again = s3_api::orchestration::cleaner::run_once(&ctx, std::time::Duration::from_secs(900))
        .await
        .unwrap();
    assert!(again.deleted.is_empty() && again.failed.is_empty());
    let metrics = app.state.metrics.render();
    assert!(
        metrics.contains(r#"cleaner_deleted_distributions_total{account="test"} 1"#),
        "{metrics}"
    );
}

/// The distribution create times out: its outcome is unknown, so rollback looks for a distribution serving the
/// name (by alias) and disables it if there is one.
#[tokio::test]
async fn website_create_timeout_is_504_and_rolled_back() {
    let (app, w) =
        TestApp::spawn_websites_with(|c, _| c.aws_timeout = std::time::Duration::from_millis(1500))
            .await;
    let name = site_name(&w, "slow");
    app.faults
        .fail_once("cloudfront:CreateDistributionWithTags", Fault::Hang);
    let r = app.post(&app.websites(""), seed_body(&name)).await;
    r.assert_status(504);
    assert_eq!(r.json()["rollback"]["complete"], true, "{}", r.text());
    assert!(
        app.faults
            .calls()
            .contains(&"cloudfront:ListDistributions".to_owned()),
        "looked for it by alias"
    );
    assert!(!app.aws.bucket_exists(&name).await);
    assert!(app.aws.policy_names().await.is_empty());
    assert!(records(&app, &w, &name).await.is_empty());
}

#[tokio::test]
async fn a_configured_certificate_that_covers_the_name_is_used() {
    let (app, w) = TestApp::spawn_websites_with(|c, w| {
        for d in c.accounts.get_mut("test").unwrap().domains.values_mut() {
            d.cert_arn = Some(w.cert_arn.clone());
        }
    })
    .await;
    let v = create_site(&app, &site_name(&w, "cfg")).await;
    assert_eq!(
        v["Distribution"]["DistributionConfig"]["ViewerCertificate"]["ACMCertificateArn"],
        w.cert_arn
    );
    assert!(app
        .faults
        .calls()
        .contains(&"acm:DescribeCertificate".to_owned()));
    assert!(!app
        .faults
        .calls()
        .contains(&"acm:ListCertificates".to_owned()));
}

/// Makes a hosted zone named `name` in the account, public or private; returns its id.
async fn create_zone(aws: &crate::helpers::Emulator, name: &str, private: bool) -> String {
    let mut req = aws
        .route53
        .create_hosted_zone()
        .name(name)
        .caller_reference(unique("zone"));
    if private {
        req = req
            .hosted_zone_config(
                aws_sdk_route53::types::HostedZoneConfig::builder()
                    .private_zone(true)
                    .build(),
            )
            .vpc(
                aws_sdk_route53::types::Vpc::builder()
                    .vpc_id("vpc-12345678")
                    .vpc_region(aws_sdk_route53::types::VpcRegion::UsEast1)
                    .build(),
            );
    }
    let out = req.send().await.unwrap();
    let id = out.hosted_zone().unwrap().id();
    id.trim_start_matches("/hostedzone/").to_owned()
}

/// Starts the service for a fresh account holding the zones `make` creates, with `domain` configured without
/// `hostedZoneID`.
async fn start_with_zones(
    make: impl AsyncFnOnce(&crate::helpers::Emulator, &str) -> Vec<String>,
) -> (String, Vec<String>, anyhow::Result<s3_api::app::App>) {
    let account_id = crate::helpers::random_account_id();
    let aws = crate::helpers::emulator(&account_id).await;
    let domain = format!("{}.org", unique("zones"));
    let zones = make(&aws, &domain).await;
    let mut config = crate::helpers::test_config(&account_id, &unique("logs"));
    config.accounts.get_mut("test").unwrap().domains.insert(
        domain.clone(),
        s3_api::config::DomainConfig {
            cert_arn: None,
            hosted_zone_id: None,
        },
    );
    let app = s3_api::app::App::new(config, s3_api::aws::AwsHooks::default()).await;
    (domain, zones, app)
}

/// `hostedZoneID` left out: the service finds the one public zone of exactly that name, past a private zone of
/// the same name and zones of neighbouring names.
#[tokio::test]
async fn the_hosted_zone_is_found_by_name() {
    let (domain, zones, app) = start_with_zones(async |aws, domain| {
        let public = create_zone(aws, domain, false).await;
        create_zone(aws, domain, true).await;
        create_zone(aws, &format!("sub.{domain}"), false).await;
        create_zone(aws, &format!("a{domain}"), false).await;
        vec![public]
    })
    .await;
    let app = app.expect("the zone is found");
    assert_eq!(
        app.accounts["test"].config.domains[&domain]
            .hosted_zone_id
            .as_deref(),
        Some(zones[0].as_str())
    );
}

/// No public zone of that name (a private one does not count): the service refuses to start, naming the domain.
#[tokio::test]
async fn no_hosted_zone_of_that_name_refuses_to_start() {
    let (domain, _, app) = start_with_zones(async |aws, domain| {
        create_zone(aws, domain, true).await;
        create_zone(aws, &format!("sub.{domain}"), false).await;
        vec![]
    })
    .await;
    let e = app.err().expect("refused").to_string();
    assert!(
        e.contains("no public hosted zone") && e.contains(&domain),
        "{e}"
    );
}

/// Two public zones of that name: the service cannot tell which one serves the domain and refuses to start,
/// naming both.
#[tokio::test]
async fn several_hosted_zones_of_that_name_refuse_to_start() {
    let (domain, zones, app) = start_with_zones(async |aws, domain| {
        vec![
            create_zone(aws, domain, false).await,
            create_zone(aws, domain, false).await,
        ]
    })
    .await;
    let e = app.err().expect("refused").to_string();
    assert!(
        e.contains("2 public hosted zones") && e.contains(&domain),
        "{e}"
    );
    for zone in &zones {
        assert!(e.contains(zone.as_str()), "{e}");
    }
}

/// The account's websites: made sites, sorted; not a plain bucket, not a deleted site whose disabled
/// distribution still waits for the cleaner.
#[tokio::test]
async fn list_websites_names_the_account_s_sites_only() {
    let (app, w) = TestApp::spawn_websites().await;
    let (a, b, gone) = (
        site_name(&w, "list-a"),
        site_name(&w, "list-b"),
        site_name(&w, "list-gone"),
    );
    for site in [&a, &b, &gone] {
        create_site(&app, site).await;
    }
    app.create_bucket(&unique("plain")).await;
    app.aws.settle().await;
    app.delete(&app.websites(&format!("/{gone}")))
        .await
        .assert_status(200);

    let r = app.get(&app.websites("")).await;
    r.assert_status(200);
    let mut expected = vec![a.clone(), b.clone()];
    expected.sort();
    assert_eq!(r.json(), serde_json::json!(expected));
}
