import { Sha256 } from '@aws-crypto/sha256-js';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { ConfigError } from '../core/errors.js';

/** `https://<id>.execute-api.<region>.amazonaws.com` → `<region>`. */
export function regionOfExecuteApiHost(host: string): string | undefined {
  return /^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(host)?.[1];
}

/**
 * Signs admin calls to the deployed API with AWS SigV4 (service `execute-api`): on AWS, the operator
 * routes are authorised by IAM at API Gateway, so your AWS credentials are the admin credential.
 * Credentials come from the standard chain (environment, profile, SSO, instance role).
 */
export function awsAdminSigner(options: {
  region?: string;
  credentials?: AwsCredentialIdentityProvider;
}): (method: string, path: string, body: Buffer, url: URL) => Promise<Record<string, string>> {
  const credentials = options.credentials ?? defaultProvider();
  return async (method, _path, body, url) => {
    const region = options.region ?? regionOfExecuteApiHost(url.hostname);
    if (region === undefined) {
      throw new ConfigError(
        'aws_region_unknown',
        `cannot tell the AWS region of ${url.host} (not an execute-api address); pass --aws-region REGION`,
      );
    }
    const signer = new SignatureV4({ service: 'execute-api', region, credentials, sha256: Sha256 });
    const query: Record<string, string> = {};
    for (const [key, value] of url.searchParams) query[key] = value;
    const signed = await signWith(
      signer,
      new HttpRequest({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port === '' ? {} : { port: Number(url.port) }),
        path: url.pathname,
        query,
        headers: {
          host: url.host,
          ...(body.length > 0 ? { 'content-type': 'application/json' } : {}),
        },
        body,
      }),
    );
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(signed.headers)) {
      if (name.toLowerCase() !== 'host') headers[name] = String(value);
    }
    return headers;
  };
}

/** Signs `request`, turning the credential chain's failure into what to do about it. */
async function signWith(signer: SignatureV4, request: HttpRequest) {
  try {
    return await signer.sign(request);
  } catch (error) {
    if ((error as { name?: unknown }).name !== 'CredentialsProviderError') throw error;
    throw new ConfigError(
      'aws_credentials_missing',
      `--aws-iam: no AWS credentials found (${(error as Error).message}); sign in first: set AWS_PROFILE to a configured profile (after \`aws sso login\` for SSO), run \`aws configure\`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN)`,
      { cause: error },
    );
  }
}
