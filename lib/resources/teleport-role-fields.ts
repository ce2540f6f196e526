import * as z from 'zod';

/**
 * Fields of a Teleport role that `tctl get role/NAME` writes (many as defaults) and that have no
 * meaning in a cluster without a proxy, sessions, databases or desktops. They are accepted so that an
 * export pastes as it is, kept as written, and named in a note by `midctl create` (`role-notices.ts`):
 * nobody should count on them.
 */
export const TELEPORT_ROLE_OPTIONS = [
  'cert_format',
  'client_idle_timeout',
  'create_db_user',
  'create_db_user_mode',
  'create_desktop_user',
  'create_host_user',
  'create_host_user_default_shell',
  'create_host_user_mode',
  'desktop_clipboard',
  'desktop_directory_sharing',
  'device_trust_mode',
  'disconnect_expired_cert',
  'enhanced_recording',
  'forward_agent',
  'idp',
  'lock',
  'max_connections',
  'max_kubernetes_connections',
  'max_sessions',
  'mfa_verification_interval',
  'permit_x11_forwarding',
  'pin_source_ip',
  'port_forwarding',
  'record_session',
  'request_access',
  'request_prompt',
  'require_session_mfa',
  'ssh_file_copy',
  'ssh_port_forwarding',
] as const;

/**
 * Conditions on kinds of resources this cluster has no use for (databases, desktops, cloud consoles,
 * access requests). Ignoring them grants nothing: nothing here reaches what they are about. Label
 * expressions are not among them: they narrow the labels a role allows, and ignoring one would grant
 * more than the role says, so they are refused (see {@link labelExpressionKeys}).
 */
export const TELEPORT_OTHER_KIND_CONDITIONS = [
  'account_assignments',
  'aws_role_arns',
  'azure_identities',
  'cluster_labels',
  'db_labels',
  'db_names',
  'db_permissions',
  'db_roles',
  'db_service_labels',
  'db_users',
  'desktop_groups',
  'gcp_service_accounts',
  'github_permissions',
  'group_labels',
  'host_groups',
  'host_sudoers',
  'impersonate',
  'join_sessions',
  'request',
  'review_requests',
  'spiffe',
  'windows_desktop_labels',
  'windows_desktop_logins',
  'workload_identity_labels',
] as const;

/** Shape of the accepted-but-ignored fields: any value, kept as written. */
export function ignoredFields<const Keys extends readonly string[]>(keys: Keys) {
  return Object.fromEntries(keys.map((key) => [key, z.unknown().optional()])) as {
    [Key in Keys[number]]: z.ZodOptional<z.ZodUnknown>;
  };
}

/** The Teleport label expressions a role's conditions may carry, refused with what to write instead. */
export const LABEL_EXPRESSION_KEYS = [
  'node_labels_expression',
  'app_labels_expression',
  'kubernetes_labels_expression',
  'db_labels_expression',
  'db_service_labels_expression',
  'windows_desktop_labels_expression',
  'cluster_labels_expression',
  'group_labels_expression',
  'workload_identity_labels_expression',
] as const;
