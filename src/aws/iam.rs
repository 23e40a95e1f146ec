//! The IAM calls the service makes, each mapping its SDK error in one place.

use aws_sdk_iam::types::{
    AccessKey, AccessKeyMetadata, AttachedPolicy, Group, LoginProfile, MfaDevice, Policy,
    ServiceSpecificCredentialMetadata, SigningCertificate, SshPublicKeyMetadata, User,
};

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

    /// The user, with its tags.
    pub async fn get_user(&self, name: &str) -> Result<User, AwsError> {
        let out = self
            .iam
            .get_user()
            .user_name(name)
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

    /// Adds or replaces tags of the user.
    pub async fn tag_user(&self, name: &str, tags: &[Tag]) -> Result<(), AwsError> {
        self.iam
            .tag_user()
            .user_name(name)
            .set_tags(Some(iam_tags(tags)))
            .send()
            .await
            .map_err(err(Service::Iam, "TagUser"))?;
        Ok(())
    }

    pub async fn untag_user(&self, name: &str, keys: &[&str]) -> Result<(), AwsError> {
        self.iam
            .untag_user()
            .user_name(name)
            .set_tag_keys(Some(keys.iter().map(|k| (*k).to_owned()).collect()))
            .send()
            .await
            .map_err(err(Service::Iam, "UntagUser"))?;
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

    /// Names of the user's inline policies.
    pub async fn list_user_policies(&self, user: &str) -> Result<Vec<String>, AwsError> {
        let mut names = Vec::new();
        let mut pages = self
            .iam
            .list_user_policies()
            .user_name(user)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(err(Service::Iam, "ListUserPolicies"))?;
            names.extend(page.policy_names().iter().cloned());
        }
        Ok(names)
    }

    pub async fn delete_user_policy(&self, user: &str, policy_name: &str) -> Result<(), AwsError> {
        self.iam
            .delete_user_policy()
            .user_name(user)
            .policy_name(policy_name)
            .send()
            .await
            .map_err(err(Service::Iam, "DeleteUserPolicy"))?;
        Ok(())
    }

    /// The user's console password; "not found" when it has none (or when the user does not exist).
    pub async fn get_login_profile(&self, user: &str) -> Result<LoginProfile, AwsError> {
        let out = self
            .iam
            .get_login_profile()
            .user_name(user)
            .send()
            .await
            .map_err(err(Service::Iam, "GetLoginProfile"))?;
        out.login_profile
            .ok_or_else(|| AwsError::missing_field(Service::Iam, "GetLoginProfile", "LoginProfile"))
    }

    pub async fn delete_login_profile(&self, user: &str) -> Result<(), AwsError> {
        self.iam
            .delete_login_profile()
            .user_name(user)
            .send()
            .await
            .map_err(err(Service::Iam, "DeleteLoginProfile"))?;
        Ok(())
    }

    /// The MFA devices enabled for the user (virtual, hardware and security keys).
    pub async fn list_mfa_devices(&self, user: &str) -> Result<Vec<MfaDevice>, AwsError> {
        let mut devices = Vec::new();
        let mut pages = self
            .iam
            .list_mfa_devices()
            .user_name(user)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(err(Service::Iam, "ListMFADevices"))?;
            devices.extend(page.mfa_devices().iter().cloned());
        }
        Ok(devices)
    }

    pub async fn deactivate_mfa_device(&self, user: &str, serial: &str) -> Result<(), AwsError> {
        self.iam
            .deactivate_mfa_device()
            .user_name(user)
            .serial_number(serial)
            .send()
            .await
            .map_err(err(Service::Iam, "DeactivateMFADevice"))?;
        Ok(())
    }

    pub async fn delete_virtual_mfa_device(&self, serial: &str) -> Result<(), AwsError> {
        self.iam
            .delete_virtual_mfa_device()
            .serial_number(serial)
            .send()
            .await
            .map_err(err(Service::Iam, "DeleteVirtualMFADevice"))?;
        Ok(())
    }

    pub async fn list_ssh_public_keys(
        &self,
        user: &str,
    ) -> Result<Vec<SshPublicKeyMetadata>, AwsError> {
        let mut keys = Vec::new();
        let mut pages = self
            .iam
            .list_ssh_public_keys()
            .user_name(user)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(err(Service::Iam, "ListSSHPublicKeys"))?;
            keys.extend(page.ssh_public_keys().iter().cloned());
        }
        Ok(keys)
    }

    pub async fn delete_ssh_public_key(&self, user: &str, key_id: &str) -> Result<(), AwsError> {
        self.iam
            .delete_ssh_public_key()
            .user_name(user)
            .ssh_public_key_id(key_id)
            .send()
            .await
            .map_err(err(Service::Iam, "DeleteSSHPublicKey"))?;
        Ok(())
    }

    pub async fn list_signing_certificates(
        &self,
        user: &str,
    ) -> Result<Vec<SigningCertificate>, AwsError> {
        let mut certificates = Vec::new();
        let mut pages = self
            .iam
            .list_signing_certificates()
            .user_name(user)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(err(Service::Iam, "ListSigningCertificates"))?;
            certificates.extend(page.certificates().iter().cloned());
        }
        Ok(certificates)
    }

    pub async fn delete_signing_certificate(
        &self,
        user: &str,
        certificate_id: &str,
    ) -> Result<(), AwsError> {
        self.iam
            .delete_signing_certificate()
            .user_name(user)
            .certificate_id(certificate_id)
            .send()
            .await
            .map_err(err(Service::Iam, "DeleteSigningCertificate"))?;
        Ok(())
    }

    /// The user's credentials for other services (CodeCommit, Keyspaces, Bedrock API keys).
    pub async fn list_service_specific_credentials(
        &self,
        user: &str,
    ) -> Result<Vec<ServiceSpecificCredentialMetadata>, AwsError> {
        // The SDK has no paginator for this call; IAM pages it by marker like the others.
        let mut credentials = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .iam
                .list_service_specific_credentials()
                .user_name(user)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(err(Service::Iam, "ListServiceSpecificCredentials"))?;
            credentials.extend(page.service_specific_credentials().iter().cloned());
            match (page.is_truncated(), page.marker()) {
                (true, Some(next)) => marker = Some(next.to_owned()),
                _ => return Ok(credentials),
            }
        }
    }

    pub async fn delete_service_specific_credential(
        &self,
        user: &str,
        credential_id: &str,
    ) -> Result<(), AwsError> {
        self.iam
            .delete_service_specific_credential()
            .user_name(user)
            .service_specific_credential_id(credential_id)
            .send()
            .await
            .map_err(err(Service::Iam, "DeleteServiceSpecificCredential"))?;
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
