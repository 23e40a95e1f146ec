//! Ownership (API §1.2a): what the service did not make, or made as another kind, survives every route aimed at
//! it. Each test reads the emulator afterwards to show that nothing foreign was touched and nothing was left.

use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, ResourceRecordSet, RrType,
};
use axum::http::Method;
use serde_json::{json, Value};

use crate::faults::Fault;
use crate::helpers::{unique, Emulator, TestApp, Website, ORG};
use crate::websites::{create_site, records, seed_body, site_name};

/// The bucket's tags in the emulator, sorted.
async fn tags_of(aws: &Emulator, bucket: &str) -> Vec<(String, String)> {
    let out = aws.s3.get_bucket_tagging().bucket(bucket).send().await;
    let mut tags: Vec<(String, String)> = match out {
        Ok(o) => o
            .tag_set()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect(),
        Err(_) => Vec::new(),
    };
    tags.sort();
    tags
}

async fn bucket_policy(aws: &Emulator, bucket: &str) -> Option<String> {
    aws.s3
        .get_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .ok()
        .and_then(|o| o.policy)
}

/// Makes a bucket directly in the emulator, as someone other than the service would: no org tag.
async fn foreign_bucket(aws: &Emulator, name: &str) {
    aws.s3.create_bucket().bucket(name).send().await.unwrap();
    set_bucket_tags(aws, name, &[("Team", "theirs")]).await;
}

/// Replaces the bucket's tags directly in the emulator.
async fn set_bucket_tags(aws: &Emulator, bucket: &str, tags: &[(&str, &str)]) {
    let tags = tags
        .iter()
        .map(|(k, v)| {
            aws_sdk_s3::types::Tag::builder()
                .key(*k)
                .value(*v)
                .build()
                .unwrap()
        })
        .collect();
    aws.s3
        .put_bucket_tagging()
        .bucket(bucket)
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .set_tag_set(Some(tags))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

/// Every change a caller can ask of a bucket through the bucket routes, with the status each must get.
async fn every_change(app: &TestApp, bucket: &str) -> Vec<(String, u16, String)> {
    let b = |rest: &str| app.buckets(&format!("/{bucket}{rest}"));
    let user = unique("u");
    let requests: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::PUT,
            b(""),
            Some(json!({"Tags": [{"Key": "Owner", "Value": "me"}]})),
        ),
        (
            Method::PUT,
            b(""),
            Some(
                json!({"BucketPolicy": json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": "*", "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{bucket}/*")}]}).to_string()}),
            ),
        ),
        (
            Method::POST,
            b("/users"),
            Some(json!({"User": {"UserName": user}})),
        ),
        (
            Method::POST,
            b("/users"),
            Some(json!({"User": {"UserName": user}, "Groups": ["BktRWGrp"]})),
        ),
        (Method::PUT, b(&format!("/users/{user}")), None),
        (Method::DELETE, b(&format!("/users/{user}")), None),
        (Method::DELETE, b(""), None),
    ];
    let mut answers = Vec::new();
    for (method, path, body) in requests {
        let r = app.request(method.clone(), &path, body).await;
        answers.push((format!("{method} {path}"), r.status.as_u16(), r.code()));
    }
    answers
}

/// A bucket the service did not make (no org tag — an access-log bucket, say) survives every changing bucket
/// route: 403 NotManaged, and its tags, policy and emptiness stay; no IAM user or group was left behind.
#[tokio::test]
async fn a_bucket_without_the_org_tag_is_not_changed() {
    let app = TestApp::spawn().await;
    let bucket = unique("foreign");
    foreign_bucket(&app.aws, &bucket).await;
    let before = tags_of(&app.aws, &bucket).await;

    for (request, status, code) in every_change(&app, &bucket).await {
        // A user route reports the bucket first; a user that does not exist is never reached.
        assert_eq!(status, 403, "{request}: {code}");
        assert_eq!(code, "NotManaged", "{request}");
    }
    assert!(app.aws.bucket_exists(&bucket).await);
    assert_eq!(tags_of(&app.aws, &bucket).await, before);
    assert_eq!(bucket_policy(&app.aws, &bucket).await, None);
    assert!(app.aws.group_names().await.is_empty());
    assert!(app.aws.policy_names().await.is_empty());
    let users = app.aws.iam.list_users().send().await.unwrap();
    assert!(users.users().is_empty(), "{:?}", users.users());
    // Reads may still report it.
    app.get(&app.buckets(&format!("/{bucket}")))
        .await
        .assert_status(200);
}

/// A website's bucket cannot be changed through the bucket routes — not its tags, not its public-read policy
/// (which a public-write one would replace), not its users, and above all it cannot be deleted while DNS and
/// CloudFront point at its name (anyone could then claim the name and serve content on our domain).
#[tokio::test]
async fn bucket_routes_do_not_change_a_website() {
    let (app, w) = TestApp::spawn_websites().await;
    let name = site_name(&w, "site");
    create_site(&app, &name).await;
    let policy = bucket_policy(&app.aws, &name).await;
    let tags = tags_of(&app.aws, &name).await;
    let groups = app.aws.group_names().await;
    // Only the service's placeholders are in it: a plain bucket delete would find it empty.
    for (request, status, code) in every_change(&app, &name).await {
        assert_eq!(status, 409, "{request}: {code}");
        assert_eq!(code, "IsWebsite", "{request}");
    }
    assert!(app.aws.bucket_exists(&name).await);
    assert_eq!(bucket_policy(&app.aws, &name).await, policy);
    assert_eq!(tags_of(&app.aws, &name).await, tags);
    assert_eq!(app.aws.group_names().await, groups);
    assert_eq!(records(&app, &w, &name).await.len(), 2);
    // Through its own routes it is still a website.
    app.get(&app.websites(&format!("/{name}")))
        .await
        .assert_status(200);
}

/// Website routes see only websites: a plain bucket with a website-like name is 404 on all of them, and
/// survives.
#[tokio::test]
async fn website_routes_do_not_see_a_plain_bucket() {
    let (app, w) = TestApp::spawn_websites().await;
    let name = site_name(&w, "plain");
    app.create_bucket(&name).await;
    let site = |rest: &str| app.websites(&format!("/{name}{rest}"));
    let user = unique("u");
    for (method, path, body) in [
        (Method::GET, site(""), None),
        (Method::HEAD, site(""), None),
        (Method::GET, site("/duck"), None),
        (Method::GET, site("/users"), None),
        (
            Method::PUT,
            site(""),
            Some(json!({"Tags": [{"Key": "Owner", "Value": "me"}]})),
        ),
        (
            Method::PATCH,
            site(""),
            Some(json!({"CacheInvalidation": ["/*"]})),
        ),
        (
            Method::POST,
            site("/users"),
            Some(json!({"User": {"UserName": user}})),
        ),
        (Method::DELETE, site(""), None),
    ] {
        let r = app.request(method.clone(), &path, body).await;
        assert_eq!(r.status.as_u16(), 404, "{method} {path}: {}", r.text());
    }
    assert!(app.aws.bucket_exists(&name).await);
    assert_eq!(
        app.aws.group_names().await,
        vec![format!("{name}-BktAdmGrp")]
    );
    let users = app.aws.iam.list_users().send().await.unwrap();
    assert!(users.users().is_empty());
}

/// The service's bookkeeping tag cannot be forged: a caller's `s3-api:distribution` (and the org tag key) is
/// refused on create and on update before any AWS call, on buckets and websites alike.
#[tokio::test]
async fn the_bookkeeping_tags_cannot_be_forged() {
    let (app, w) = TestApp::spawn_websites().await;
    let bucket = unique("forge");
    let forged = json!([{"Key": "s3-api:distribution", "Value": "E2FORGED"}]);
    let org = json!([{"Key": "spinup:org", "Value": "someone-else"}]);

    app.faults.clear_calls();
    for tags in [&forged, &org] {
        let r = app
            .post(
                &app.buckets(""),
                json!({"BucketInput": {"Bucket": bucket}, "Tags": tags}),
            )
            .await;
        r.assert_status(400);
        assert_eq!(r.code(), "ReservedTag");
        let mut body = seed_body(&site_name(&w, "forge"));
        body["Tags"] = tags.clone();
        let r = app.post(&app.websites(""), body).await;
        r.assert_status(400);
        assert_eq!(r.code(), "ReservedTag");
    }
    app.assert_calls(&[]);
    assert!(!app.aws.bucket_exists(&bucket).await);

    // Update: the tags stay as they were, on a bucket and on a website.
    app.create_bucket(&bucket).await;
    let site = site_name(&w, "forged");
    create_site(&app, &site).await;
    let (bucket_tags, site_tags) = (
        tags_of(&app.aws, &bucket).await,
        tags_of(&app.aws, &site).await,
    );
    for tags in [&forged, &org] {
        let r = app
            .put(&app.buckets(&format!("/{bucket}")), json!({"Tags": tags}))
            .await;
        assert_eq!((r.status.as_u16(), r.code()), (400, "ReservedTag".into()));
        let r = app
            .put(&app.websites(&format!("/{site}")), json!({"Tags": tags}))
            .await;
        assert_eq!((r.status.as_u16(), r.code()), (400, "ReservedTag".into()));
    }
    assert_eq!(tags_of(&app.aws, &bucket).await, bucket_tags);
    assert_eq!(tags_of(&app.aws, &site).await, site_tags);
}

/// Tags AWS would refuse half-way through a create are refused first, naming the tag and the characters AWS
/// allows: the seed's own `Take.My.Money.$$$$` is one.
#[tokio::test]
async fn the_seed_s_dollar_tag_is_refused_before_any_aws_call() {
    let (app, w) = TestApp::spawn_websites().await;
    let bad = json!([{"Key": "COA", "Value": "Take.My.Money.$$$$"}]);
    app.faults.clear_calls();
    let r = app
        .post(
            &app.buckets(""),
            json!({"BucketInput": {"Bucket": unique("dollar")}, "Tags": bad}),
        )
        .await;
    r.assert_status(400);
    assert_eq!(r.code(), "InvalidTag");
    let detail = r.json()["detail"].as_str().unwrap().to_owned();
    assert!(
        detail.contains("COA") && detail.contains("'$'") && detail.contains("_ . : / = + - @"),
        "{detail}"
    );
    let mut body = seed_body(&site_name(&w, "dollar"));
    body["Tags"] = bad;
    app.post(&app.websites(""), body).await.assert_status(400);
    app.assert_calls(&[]);
}

/// Path-scoped website users and a bucket named `<site>-team` never share a group, in either order: the user
/// is not that bucket's admin, and deleting the bucket leaves the user and its scoped groups alone.
#[tokio::test]
async fn a_scoped_user_and_a_bucket_named_like_its_scope_never_meet() {
    let (app, w) = TestApp::spawn_websites().await;
    for bucket_first in [true, false] {
        let site = site_name(&w, "s");
        create_site(&app, &site).await;
        let bucket = format!("{site}-team");
        let user = unique("scoped");
        let create_user = || async {
            app.post(
                &app.websites(&format!("/{site}/users")),
                json!({"User": {"UserName": user, "Path": "/team/"}}),
            )
            .await
            .assert_status(200);
        };
        if bucket_first {
            app.create_bucket(&bucket).await;
            create_user().await;
        } else {
            create_user().await;
            app.create_bucket(&bucket).await;
        }
        let groups = app.aws.groups_of(&user).await;
        assert_eq!(groups, vec![format!("{site}_team-BktAdmGrp")]);
        assert!(!groups.contains(&format!("{bucket}-BktAdmGrp")));
        // The bucket's admin group has its own policy, on its own bucket.
        let admin = app
            .aws
            .policy_document(&app.policy_arn(&format!("{bucket}-BktAdmPlc")))
            .await;
        assert!(admin
            .to_string()
            .contains(&format!("arn:aws:s3:::{bucket}")));

        let r = app.delete(&app.buckets(&format!("/{bucket}"))).await;
        r.assert_status(200);
        assert!(r.json()["Users"].as_array().unwrap().is_empty());
        assert!(app.aws.user_exists(&user).await);
        assert_eq!(app.aws.groups_of(&user).await, groups);
        let listed = app.get(&app.websites(&format!("/{site}/users"))).await;
        assert!(listed.text().contains(&user));
    }
}

/// An alias record pointing at CloudFront, made directly in the zone for a name that has no website bucket.
async fn foreign_alias_record(app: &TestApp, w: &Website, name: &str) -> ResourceRecordSet {
    let record = ResourceRecordSet::builder()
        .name(format!("{name}."))
        .r#type(RrType::A)
        .alias_target(
            AliasTarget::builder()
                .hosted_zone_id("Z2FDTNDATAQYW2")
                .dns_name("dtheirs123.cloudfront.net.")
                .evaluate_target_health(false)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    app.aws
        .route53
        .change_resource_record_sets()
        .hosted_zone_id(&w.zone_id)
        .change_batch(
            ChangeBatch::builder()
                .changes(
                    Change::builder()
                        .action(ChangeAction::Create)
                        .resource_record_set(record.clone())
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    record
}

/// A DNS record the service never made survives website delete (404: no managed website of that name), stops
/// a website create of its name before anything else is made (409), and survives the rollback of a create
/// whose record CREATE timed out while someone else's record appeared: only records exactly as the request made
/// them are undone.
#[tokio::test]
async fn dns_records_the_service_did_not_make_survive() {
    let (app, w) =
        TestApp::spawn_websites_with(|c, _| c.aws_timeout = std::time::Duration::from_millis(1500))
            .await;
    let name = site_name(&w, "dns");
    foreign_alias_record(&app, &w, &name).await;
    let theirs = vec![("A".to_owned(), "dtheirs123.cloudfront.net.".to_owned())];

    let r = app.delete(&app.websites(&format!("/{name}"))).await;
    r.assert_status(404);
    assert_eq!(records(&app, &w, &name).await, theirs);

    let r = app.post(&app.websites(""), seed_body(&name)).await;
    r.assert_status(409);
    assert_eq!(r.code(), "DnsRecordAlreadyExists");
    assert_eq!(records(&app, &w, &name).await, theirs);
    assert!(!app.aws.bucket_exists(&name).await);
    assert!(app.aws.policy_names().await.is_empty());

    // The CREATE of the records hangs; meanwhile someone else's record takes the name. The outcome of the
    // CREATE is unknown, so rollback looks at the name, and leaves the other record alone.
    let raced = site_name(&w, "race");
    app.faults
        .fail_once("route53:ChangeResourceRecordSets", Fault::Hang);
    let racer = async {
        while app.faults.count("route53:ChangeResourceRecordSets") == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        foreign_alias_record(&app, &w, &raced).await;
    };
    let path = app.websites("");
    let (r, ()) = tokio::join!(app.post(&path, seed_body(&raced)), racer);
    r.assert_status(504);
    assert_eq!(r.json()["rollback"]["complete"], true, "{}", r.text());
    assert_eq!(records(&app, &w, &raced).await, theirs);
    assert!(!app.aws.bucket_exists(&raced).await);
}

/// A website the earlier service made: org tag, S3 website hosting, public-read policy, a distribution whose
/// alias is the name and whose origin is the bucket's website endpoint, alias records — and no bookkeeping tag.
async fn go_era_website(app: &TestApp, w: &Website, name: &str) -> String {
    let aws = &app.aws;
    aws.s3.create_bucket().bucket(name).send().await.unwrap();
    set_bucket_tags(aws, name, &[("spinup:org", ORG)]).await;
    aws.s3
        .put_bucket_website()
        .bucket(name)
        .website_configuration(
            aws_sdk_s3::types::WebsiteConfiguration::builder()
                .index_document(
                    aws_sdk_s3::types::IndexDocument::builder()
                        .suffix("index.html")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let spec = s3_api::aws::cloudfront::DistributionSpec {
        website: name,
        origin_domain: s3_api::domain::website::website_endpoint(name, "us-east-1"),
        certificate_arn: &w.cert_arn,
        minimum_protocol_version: "TLSv1.1_2016",
        price_class: "PriceClass_100",
        geo_whitelist: &[],
        default_root_object: "index.html",
        caller_reference: unique("go"),
    };
    let d = aws
        .cloudfront
        .create_distribution()
        .distribution_config(s3_api::aws::cloudfront::website_distribution(&spec))
        .send()
        .await
        .unwrap();
    let d = d.distribution().unwrap();
    for kind in [RrType::A, RrType::Aaaa] {
        aws.route53
            .change_resource_record_sets()
            .hosted_zone_id(&w.zone_id)
            .change_batch(
                ChangeBatch::builder()
                    .changes(
                        Change::builder()
                            .action(ChangeAction::Create)
                            .resource_record_set(
                                ResourceRecordSet::builder()
                                    .name(format!("{name}."))
                                    .r#type(kind)
                                    .alias_target(
                                        AliasTarget::builder()
                                            .hosted_zone_id("Z2FDTNDATAQYW2")
                                            .dns_name(d.domain_name())
                                            .evaluate_target_health(false)
                                            .build()
                                            .unwrap(),
                                    )
                                    .build()
                                    .unwrap(),
                            )
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }
    d.id().to_owned()
}

/// A Go-era website is recognised: shown, updated, invalidated, given a user and deleted through the API. Its
/// distribution is found once by alias and origin and then recorded on the bucket.
#[tokio::test]
async fn a_website_of_the_earlier_service_is_served() {
    let (app, w) = TestApp::spawn_websites().await;
    let name = site_name(&w, "goera");
    let id = go_era_website(&app, &w, &name).await;
    let site = |rest: &str| app.websites(&format!("/{name}{rest}"));

    let r = app.get(&site("")).await;
    r.assert_status(200);
    assert_eq!(r.json()["Distribution"]["Id"], id.as_str());
    assert!(r.json()["DNSRecord"]["AliasTarget"]["DNSName"].is_string());
    assert!(tags_of(&app.aws, &name)
        .await
        .contains(&("s3-api:distribution".to_owned(), id.clone())));
    // Recorded: the next show looks no more.
    app.faults.clear_calls();
    app.get(&site("")).await.assert_status(200);
    assert_eq!(app.faults.count("cloudfront:ListDistributions"), 0);

    let r = app
        .put(
            &site(""),
            json!({"Tags": [{"Key": "Owner", "Value": "Oscar"}]}),
        )
        .await;
    r.assert_status(200);
    let r = app
        .request(
            Method::PATCH,
            &site(""),
            Some(json!({"CacheInvalidation": ["/*"]})),
        )
        .await;
    r.assert_status(200);
    assert!(r.json()["Location"].as_str().unwrap().contains(&id));
    let user = unique("gouser");
    app.post(&site("/users"), json!({"User": {"UserName": user}}))
        .await
        .assert_status(200);
    let web_policy = app
        .aws
        .policy_document(&app.policy_arn(&format!("{name}-WebAdmPlc")))
        .await;
    assert!(web_policy
        .to_string()
        .contains(&format!("distribution/{id}")));

    let r = app.delete(&site("")).await;
    r.assert_status(200);
    assert_eq!(r.json()["Users"], json!([user]));
    assert!(records(&app, &w, &name).await.is_empty());
    assert!(!app.aws.bucket_exists(&name).await);
    let d = app
        .aws
        .cloudfront
        .get_distribution()
        .id(&id)
        .send()
        .await
        .unwrap();
    assert!(!d
        .distribution()
        .unwrap()
        .distribution_config()
        .unwrap()
        .enabled());
}

/// A distribution id written into the bucket's tag by hand (through S3, by a user of the bucket) that names a
/// distribution serving something else is not acted on: invalidate and delete use the site's own distribution,
/// and the other one stays enabled with its records in place.
#[tokio::test]
async fn a_forged_distribution_tag_is_not_acted_on() {
    let (app, w) = TestApp::spawn_websites().await;
    let victim = site_name(&w, "victim");
    let victim_id = create_site(&app, &victim).await["Distribution"]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let name = site_name(&w, "forger");
    create_site(&app, &name).await;
    // The forger's own distribution is replaced by the victim's in the bookkeeping tag.
    let mut tags: Vec<(String, String)> = tags_of(&app.aws, &name)
        .await
        .into_iter()
        .filter(|(k, _)| k != "s3-api:distribution")
        .collect();
    tags.push(("s3-api:distribution".to_owned(), victim_id.clone()));
    let tags: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    set_bucket_tags(&app.aws, &name, &tags).await;

    let r = app
        .request(
            Method::PATCH,
            &app.websites(&format!("/{name}")),
            Some(json!({"CacheInvalidation": ["/*"]})),
        )
        .await;
    r.assert_status(200);
    assert!(!r.json()["Location"].as_str().unwrap().contains(&victim_id));
    app.delete(&app.websites(&format!("/{name}")))
        .await
        .assert_status(200);
    let d = app
        .aws
        .cloudfront
        .get_distribution()
        .id(&victim_id)
        .send()
        .await
        .unwrap();
    assert!(d
        .distribution()
        .unwrap()
        .distribution_config()
        .unwrap()
        .enabled());
    assert_eq!(records(&app, &w, &victim).await.len(), 2);
    // The forger's own site went as a website goes: its records first, its own distribution disabled.
    assert!(records(&app, &w, &name).await.is_empty());
    assert!(!app.aws.bucket_exists(&name).await);
}
