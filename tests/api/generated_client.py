"""Drives the service through a Python client that openapi-python-client generated from the served document.

Usage: generated_client.py PACKAGE_PARENT BASE_URL TOKEN DOMAIN

Every response of the routes driven must be parsed into its declared model: not None, not a bare dict, with no
field the document does not declare (a generated model keeps undeclared fields in `additional_properties`) and no
field left unset (the service always writes every field of a response; a generated model says `Unset` for a field
the document calls optional that the answer left out). The bookmarks must arrive as text.
Prints one line per call and exits non-zero at the first one that is not.
"""

import sys
import uuid

sys.path.insert(0, sys.argv[1])

import attrs  # noqa: E402  (comes with the generated client's dependencies)

from s3_api_client.types import Unset  # noqa: E402

from s3_api_client import AuthenticatedClient  # noqa: E402
from s3_api_client import models  # noqa: E402
from s3_api_client.api.bucket_users import (  # noqa: E402
    create_bucket_user, delete_bucket_user, list_bucket_users, reset_bucket_user, show_bucket_user)
from s3_api_client.api.buckets import (  # noqa: E402
    create_bucket, delete_bucket, duck_bucket, list_bucket, show_bucket, update_bucket)
from s3_api_client.api.website_users import (  # noqa: E402
    create_website_user, delete_website_user, list_website_users, reset_website_user, show_website_user)
from s3_api_client.api.websites import (  # noqa: E402
    create_website, delete_website, duck_website, invalidate_website, list_websites, show_website, update_website)

_, _, base_url, token, domain = sys.argv
client = AuthenticatedClient(base_url=base_url, token=token, prefix="", auth_header_name="X-Auth-Token",
                             raise_on_unexpected_status=True, timeout=None)
account = "test"


def undeclared(value, path):
    """The paths of fields the document does not declare, or that were left unset, anywhere in a parsed value."""
    found = []
    if isinstance(value, Unset):
        found.append(f"{path} (unset)")
    elif attrs.has(type(value)):
        extra = getattr(value, "additional_properties", {})
        found += [f"{path}.{k}" for k in extra]
        for field in attrs.fields(type(value)):
            if field.name != "additional_properties":
                found += undeclared(getattr(value, field.name), f"{path}.{field.name}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += undeclared(item, f"{path}[{i}]")
    return found


def call(what, fn, status, model, **kwargs):
    r = fn.sync_detailed(client=client, **kwargs)
    parsed = r.parsed
    problems = []
    if r.status_code != status:
        problems.append(f"status {r.status_code}, expected {status}: {r.content[:300]!r}")
    if parsed is None:
        problems.append("the body was not parsed")
    elif isinstance(parsed, dict):
        problems.append("parsed as a bare dict")
    elif model is not None and not isinstance(parsed, model):
        problems.append(f"parsed as {type(parsed).__name__}, expected {model.__name__}")
    problems += [f"undeclared or unset field {p}" for p in undeclared(parsed, type(parsed).__name__)]
    print(f"{'ok  ' if not problems else 'FAIL'} {what}: {type(parsed).__name__}", flush=True)
    if problems:
        for p in problems:
            print(f"     {p}", flush=True)
        sys.exit(1)
    return parsed


def name(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


bucket = name("gen")
user = name("genu")
site = f"{name('gensite')}.{domain}"
web_user = name("genw")

call("create bucket", create_bucket, 202, models.CreatedBucketBody, account=account,
     body=models.CreateBucketBody.from_dict({"BucketInput": {"Bucket": bucket},
                                             "Tags": [{"Key": "Team", "Value": "a"}]}))
names = call("list buckets", list_bucket, 200, list, account=account)
assert bucket in names, names
call("show bucket", show_bucket, 200, models.BucketBody, account=account, bucket=bucket)
call("update bucket", update_bucket, 200, models.BucketBody, account=account, bucket=bucket,
     body=models.UpdateBucketBody.from_dict({"Tags": [{"Key": "Team", "Value": "b"}]}))
created = call("create bucket user", create_bucket_user, 200, models.CreatedUserBody, account=account,
               bucket=bucket, body=models.CreateUserBody.from_dict({"User": {"UserName": user}}))
assert created.access_key.secret_access_key
assert created.access_key.status == models.KeyStatus.ACTIVE, created.access_key.status
call("list bucket users", list_bucket_users, 200, list, account=account, bucket=bucket)
shown_user = call("show bucket user", show_bucket_user, 200, models.UserBody, account=account, bucket=bucket,
                  user=user)
assert [k.status for k in shown_user.access_keys] == [models.KeyStatus.ACTIVE], shown_user.access_keys
bookmark = call("bucket bookmark", duck_bucket, 200, str, account=account, bucket=bucket)
assert "<plist" in bookmark and bucket in bookmark, bookmark
call("reset a bucket user's keys", reset_bucket_user, 200, models.ResetBody, account=account, bucket=bucket,
     user=user)
call("delete bucket user", delete_bucket_user, 200, models.DeletedUserBody, account=account, bucket=bucket, user=user)

call("create website", create_website, 202, models.CreatedWebsiteBody, account=account,
     body=models.CreateWebsiteBody.from_dict({"BucketInput": {"Bucket": site},
                                              "WebsiteConfiguration": {"IndexDocument": {"Suffix": "index.html"}}}))
sites = call("list websites", list_websites, 200, list, account=account)
assert site in sites, sites
shown = call("show website", show_website, 200, models.WebsiteBody, account=account, website=site)
assert shown.distribution.distribution_config.aliases.items == [site]
call("update website", update_website, 200, models.WebsiteBody, account=account, website=site,
     body=models.UpdateWebsiteBody.from_dict({"Tags": [{"Key": "Team", "Value": "c"}]}))
call("invalidate", invalidate_website, 200, models.InvalidatedBody, account=account, website=site,
     body=models.InvalidateBody.from_dict({"CacheInvalidation": ["/*"]}))
call("create website user", create_website_user, 200, models.CreatedUserBody, account=account, website=site,
     body=models.CreateUserBody.from_dict({"User": {"UserName": web_user}}))
call("list website users", list_website_users, 200, list, account=account, website=site)
call("show website user", show_website_user, 200, models.UserBody, account=account, website=site, user=web_user)
call("reset a website user's keys", reset_website_user, 200, models.ResetBody, account=account, website=site,
     user=web_user)
call("website bookmark", duck_website, 200, str, account=account, website=site)
call("delete website user", delete_website_user, 200, models.DeletedUserBody, account=account, website=site,
     user=web_user)
call("delete website", delete_website, 200, models.DeletedWebsiteBody, account=account, website=site)
call("delete bucket", delete_bucket, 200, models.DeletedBucketBody, account=account, bucket=bucket)
print("every response parsed into its declared model", flush=True)
