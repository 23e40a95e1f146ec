//! The IAM calls the service makes, each mapping its SDK error in one place.

use aws_sdk_iam::types::{AccessKey, AccessKeyMetadata, AttachedPolicy, Group, Policy, User};

use super::error::err;
use super::{AwsAccount, AwsError, Service};
use crate::domain::names::{IamName, UserName};
use crate::domain::tags::Tag;

fn iam_tags(tags: &[Tag]) -> Vec<aws_sdk_iam::types::Tag> {
    tags.iter()
        .map(|t| {
            aws_sdk_iam::types::Tag::builder()
                .key(&t.key)
                .value(&t.value)
                .build()
                .expect("key and value are set")
        })
        .collect()
}

/// Turns "not found" into `None`: for reads of resources that may legitimately be absent.
pub fn found<T>(r: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Turns "not found" into success: for deletes that must be safe to repeat.
pub fn gone(r: Result<(), AwsError>) -> Result<(), AwsError> {
    found(r).map(|_| ())
}

/// Who a managed policy is attached to.
#[derive(Debug, Default)]
pub struct PolicyEntities {
    pub groups: Vec<String>,
    pub users: Vec<String>,
    pub roles: Vec<String>,
}

impl AwsAccount {
    pub async fn create_policy(
        &self,
        name: &IamName,
        path: &str,
        document: &serde_json::Value,
        description: &str,
        tags: &[Tag],
    ) -> Result<Policy, AwsError> {
        let out = self
            .iam
            .create_policy()
            .policy_name(name.as_str())
            .path(path)
            .policy_document(document.to_string())
            .description(description)
            .set_tags(Some(iam_tags(tags)))
            .send()
            .await
            .map_err(err(Service::Iam, "CreatePolicy"))?;
        let mut policy = out
            .policy
            .ok_or_else(|| AwsError::missing_field(Service::Iam, "CreatePolicy", "Policy"))?;
        // Some IAM implementations leave the description out of the answer; it is the one just set.
        if policy.description.is_none() {
            policy.description = Some(description.to_owned());
        }
        Ok(policy)
    }

    pub async fn get_policy(&self, arn: &str) -> Result<Policy, AwsError> {
        let out = self
            .iam
            .get_policy()
            .policy_arn(arn)
            .send()
            .await
            .map_err(err(Service::Iam, "GetPolicy"))?;
        out.policy
            .ok_or_else(|| AwsError::missing_field(Service::Iam, "GetPolicy", "Policy"))
    }

    /// The account's customer-managed policies under an IAM path prefix (filtered here as well, for
    /// implementations that ignore the prefix).
    pub async fn list_policies_under(&self, prefix: &str) -> Result<Vec<Policy>, AwsError> {
        let mut all = Vec::new();
        let mut pages = self
            .iam
            .list_policies()
            .scope(aws_sdk_iam::types::PolicyScopeType::Local)
            .path_prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(err(Service::Iam, "ListPolicies"))?;
            all.extend(
                page.policies
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|p| p.path().is_some_and(|path| path.starts_with(prefix))),
            );
        }
        Ok(all)
    }

    pub async fn list_policy_tags(&self, arn: &str) -> Result<Vec<Tag>, AwsError> {
        let out = self
            .iam
            .list_policy_tags()
            .policy_arn(arn)
            .send()
            .await
            .map_err(err(Service::Iam, "ListPolicyTags"))?;
        Ok(out
            .tags()
            .iter()
            .map(|t| Tag::new(t.key(), t.value()))
            .collect())
    }

    pub async fn delete_policy(&self, arn: &str) -> Result<(), AwsError> {
        self.iam
            .delete_policy()
            .policy_arn(arn)
            .send()
            .await
            .map_err(err(Service::Iam, "DeletePolicy"))?;
        Ok(())
    }

    /// The groups, users and roles a policy is attached to.
    pub async fn list_entities_for_policy(&self, arn: &str) -> Result<PolicyEntities, AwsError> {
        let mut entities = PolicyEntities::default();
        let mut pages = self
            .iam
            .list_entities_for_policy()
            .policy_arn(arn)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(err(Service::Iam, "ListEntitiesForPolicy"))?;
            entities.groups.extend(
                page.policy_groups()
                    .iter()
                    .filter_map(|g| g.group_name().map(str::to_owned)),
            );
            entities.users.extend(
                page.policy_users()
                    .iter()
                    .filter_map(|u| u.user_name().map(str::to_owned)),
            );
            entities.roles.extend(
                page.policy_roles()
                    .iter()
                    .filter_map(|r| r.role_name().map(str::to_owned)),
            );
        }
        Ok(entities)
    }

    pub async fn create_group(&self, name: &IamName, path: &str) -> Result<Group, AwsError> {
        let out = self
            .iam
            .create_group()
            .group_name(name.as_str())
            .path(path)
            .send()
            .await
            .map_err(err(Service::Iam, "CreateGroup"))?;
        out.group
            .ok_or_else(|| AwsError::missing_field(Service::Iam, "CreateGroup", "Group"))
    }

    /// The group and all its members.
    pub async fn get_group(&self, name: &str) -> Result<(Group, Vec<User>), AwsError> {
        let mut group = None;
        let mut users = Vec::new();
        let mut pages = self
            .iam
            .get_group()
            .group_name(name)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(err(Service::Iam, "GetGroup"))?;
            users.extend(page.users().iter().cloned());
            group = page.group;
        }
        let group =
            group.ok_or_else(|| AwsError::missing_field(Service::Iam, "GetGroup", "Group"))?;
        Ok((group, users))
    }

    /// Groups and customer-managed policies under an IAM path prefix: `(group names, (policy name, ARN)s)`.
    pub async fn list_by_path(
        &self,
        prefix: &str,
    ) -> Result<(Vec<String>, Vec<(String, String)>), AwsError> {
        let groups = async {
            let mut names = Vec::new();
            let mut pages = self
                .iam
                .list_groups()
                .path_prefix(prefix)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(err(Service::Iam, "ListGroups"))?;
                // Filtered here as well: an emulator that ignores PathPrefix must not widen what a caller
                // goes on to delete.
                names.extend(
                    page.groups()
                        .iter()
                        .filter(|g| g.path().starts_with(prefix))
                        .map(|g| g.group_name().to_owned()),
                );
            }
            Ok::<_, AwsError>(names)
        };
        let policies = async {
            let mut found = Vec::new();
            let mut pages = self
                .iam
                .list_policies()
                .scope(aws_sdk_iam::types::PolicyScopeType::Local)
                .path_prefix(prefix)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(err(Service::Iam, "ListPolicies"))?;
                found.extend(
                    page.policies()
                        .iter()
                        .filter(|p| p.path().is_some_and(|path| path.starts_with(prefix)))
                        .filter_map(|p| Some((p.policy_name()?.to_owned(), p.arn()?.to_owned()))),
                );
            }
            Ok::<_, AwsError>(found)
        };
        let (groups, policies) = tokio::join!(groups, policies);
        Ok((groups?, policies?))
    }

    pub async fn delete_group(&self, name: &str) -> Result<(), AwsError> {
        self.iam
            .delete_group()
            .group_name(name)
            .send()
            .await
            .map_err(err(Service::Iam, "DeleteGroup"))?;
        Ok(())
    }

    pub async fn attach_group_policy(&self, group: &str, policy_arn: &str) -> Result<(), AwsError> {
        self.iam
            .attach_group_policy()
            .group_name(group)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(err(Service::Iam, "AttachGroupPolicy"))?;
        Ok(())
    }

    pub async fn detach_group_policy(&self, group: &str, policy_arn: &str) -> Result<(), AwsError> {
        self.iam
            .detach_group_policy()
            .group_name(group)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(err(Service::Iam, "DetachGroupPolicy"))?;
        Ok(())
    }

    pub async fn list_attached_group_policies(
        &self,
        group: &str,
    ) -> Result<Vec<AttachedPolicy>, AwsError> {
        let mut policies = Vec::new();
        let mut pages = self
            .iam
            .list_attached_group_policies()
            .group_name(group)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(err(Service::Iam, "ListAttachedGroupPolicies"))?;
            policies.extend(page.attached_policies().iter().cloned());
        }
        Ok(policies)
    }

    pub async fn create_user(&self, name: &UserName, tags: &[Tag]) -> Result<User, AwsError> {
        let out = self
            .iam
            .create_user()
            .user_name(name.as_str())
            .set_tags(Some(iam_tags(tags)))
            .send()
            .await
            .map_err(err(Service::Iam, "CreateUser"))?;
        out.user
            .ok_or_else(|| AwsError::missing_field(Service::Iam, "CreateUser", "User"))
    }

    pub async fn get_user(&self, name: &UserName) -> Result<User, AwsError> {
        let out = self
            .iam
            .get_user()
            .user_name(name.as_str())
            .send()
            .await
            .map_err(err(Service::Iam, "GetUser"))?;
        out.user
            .ok_or_else(|| AwsError::missing_field(Service::Iam, "GetUser", "User"))
    }

    pub async fn delete_user(&self, name: &str) -> Result<(), AwsError> {
        self.iam
            .delete_user()
            .user_name(name)
            .send()
            .await
            .map_err(err(Service::Iam, "DeleteUser"))?;
        Ok(())
    }

    pub async fn add_user_to_group(&self, user: &str, group: &str) -> Result<(), AwsError> {
        self.iam
            .add_user_to_group()
            .user_name(user)
            .group_name(group)
            .send()
            .await
            .map_err(err(Service::Iam, "AddUserToGroup"))?;
        Ok(())
    }

    pub async fn remove_user_from_group(&self, user: &str, group: &str) -> Result<(), AwsError> {
        self.iam
            .remove_user_from_group()
            .user_name(user)
            .group_name(group)
            .send()
            .await
            .map_err(err(Service::Iam, "RemoveUserFromGroup"))?;
        Ok(())
    }

    /// The user's groups; "not found" when the user does not exist.
    pub async fn list_groups_for_user(&self, user: &str) -> Result<Vec<Group>, AwsError> {
        let mut groups = Vec::new();
        let mut pages = self
            .iam
            .list_groups_for_user()
            .user_name(user)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(err(Service::Iam, "ListGroupsForUser"))?;
            groups.extend(page.groups().iter().cloned());
        }
        Ok(groups)
    }

    pub async fn list_attached_user_policies(
        &self,
        user: &str,
    ) -> Result<Vec<AttachedPolicy>, AwsError> {
        let mut policies = Vec::new();
        let mut pages = self
            .iam
            .list_attached_user_policies()
            .user_name(user)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(err(Service::Iam, "ListAttachedUserPolicies"))?;
            policies.extend(page.attached_policies().iter().cloned());
        }
        Ok(policies)
    }

    pub async fn detach_user_policy(&self, user: &str, policy_arn: &str) -> Result<(), AwsError> {
        self.iam
            .detach_user_policy()
            .user_name(user)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(err(Service::Iam, "DetachUserPolicy"))?;
        Ok(())
    }

    pub async fn detach_role_policy(&self, role: &str, policy_arn: &str) -> Result<(), AwsError> {
        self.iam
            .detach_role_policy()
            .role_name(role)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(err(Service::Iam, "DetachRolePolicy"))?;
        Ok(())
    }

    pub async fn create_access_key(&self, user: &str) -> Result<AccessKey, AwsError> {
        let out = self
            .iam
            .create_access_key()
            .user_name(user)
            .send()
            .await
            .map_err(err(Service::Iam, "CreateAccessKey"))?;
        out.access_key
            .ok_or_else(|| AwsError::missing_field(Service::Iam, "CreateAccessKey", "AccessKey"))
    }

    pub async fn list_access_keys(&self, user: &str) -> Result<Vec<AccessKeyMetadata>, AwsError> {
        let mut keys = Vec::new();
        let mut pages = self
            .iam
            .list_access_keys()
            .user_name(user)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(err(Service::Iam, "ListAccessKeys"))?;
            keys.extend(page.access_key_metadata().iter().cloned());
        }
        Ok(keys)
    }

    pub async fn delete_access_key(&self, user: &str, key_id: &str) -> Result<(), AwsError> {
        self.iam
            .delete_access_key()
            .user_name(user)
            .access_key_id(key_id)
            .send()
            .await
            .map_err(err(Service::Iam, "DeleteAccessKey"))?;
        Ok(())
    }
}
