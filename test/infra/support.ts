import { readFileSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { expect } from 'vitest';
import { ConfigError } from '../../lib/core/errors.js';

/** The feature flags `cdk synth` runs with, so that tests synthesize what a deploy would. */
export function cdkContext(): Record<string, unknown> {
  const config = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return config.context ?? {};
}

/** Inline code in place of the esbuild bundle: synth stays fast, and these tests check infrastructure. */
export const INLINE_CODE = lambda.Code.fromInline('exports.handler = async () => ({});');

/** An env-agnostic stack in an app with the project's feature flags. */
export function newStack(id = 'Test'): Stack {
  return new Stack(new App({ context: cdkContext() }), id);
}

/** Runs `build`, expects the construct's ConfigError, and returns its message. */
export function propsErrorOf(build: () => unknown): string {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('invalid_construct_props');
    return (error as ConfigError).message;
  }
  return expect.unreachable('expected the construct to refuse its props');
}

/** The logical id of the one resource of `type` whose construct path ends with `pathSuffix`. */
export function logicalIdOf(stack: Stack, pathSuffix: string): string {
  const found = stack.node
    .findAll()
    .filter((construct) => construct.node.path.endsWith(pathSuffix))
    .map((construct) => construct.node.defaultChild ?? construct)
    .filter((child): child is import('aws-cdk-lib').CfnElement => 'logicalId' in child);
  expect(found, `exactly one construct ending with ${pathSuffix}`).toHaveLength(1);
  return stack.resolve((found[0] as import('aws-cdk-lib').CfnElement).logicalId) as string;
}

/** `{ Ref: id }`: what a secret's ARN (and a role's name) looks like in the template. */
export const ref = (logicalId: string) => ({ Ref: logicalId });

/** `{ 'Fn::GetAtt': [id, attribute] }`. */
export const getAtt = (logicalId: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [logicalId, attribute] });

/**
 * Resolves a `Fn::Join` of literals, `Ref`s and `Fn::GetAtt`s with made-up deploy-time values, so a
 * rendered config or resource document can be read back as CloudFormation would produce it.
 */
export function resolveJoin(value: unknown, values: (token: unknown) => string): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join === undefined) return values(value);
  const [separator, parts] = join;
  return parts.map((part) => (typeof part === 'string' ? part : values(part))).join(separator);
}

/** Matches a policy statement list containing exactly these statements among others. */
export const statementsContaining = (statements: unknown[]) =>
  Match.objectLike({ PolicyDocument: Match.objectLike({ Statement: Match.arrayWith(statements) }) });

/** `values` sorted by their JSON text, to compare lists whose order the template does not fix. */
export const sortedByJson = (values: readonly unknown[]) =>
  [...values].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
